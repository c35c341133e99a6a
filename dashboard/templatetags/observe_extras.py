"""Filters of the observe pages."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template

register = template.Library()


@register.filter
def ms_time(value: int) -> str:
    """A CloudWatch time (ms since the epoch) as `YYYY-MM-DD HH:MM:SS.mmm` in UTC."""
    try:
        moment = datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@register.filter
def money(value: float) -> str:
    """Dollars to the cent, and to a tenth of a cent below a cent (a few prompts)."""
    amount = float(value or 0)
    return f"${amount:,.2f}" if amount >= 0.01 or amount == 0 else f"${amount:.4f}"
