"""Small display filters for our templates."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()

VALUE_LIMIT = 120


@register.filter
def status_class(status: object) -> str:
    """CSS class for a run, resource or plan status ("SUCCEEDED", "started", "CREATE", ...)."""
    return f"status-{str(status or 'unknown').lower().replace('_', '-')}"


@register.filter
def ago(moment: datetime | None) -> str:
    """When, in words: "just now", "5 minutes ago", "2 days, 3 hours ago"."""
    if moment is None:
        return "—"
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"


@register.filter
def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


@register.filter
def show_value(value: Any) -> str:
    """A property value as short text: absent is a dash, structures are compact JSON."""
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


@register.filter
def count(counts: dict[str, Any] | None, key: str) -> int:
    return int((counts or {}).get(key) or 0)


@register.filter
def pretty_json(value: Any) -> str:
    """A snapshot, indented, for a <pre> (autoescaped by the template)."""
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@register.filter
def fields_in(form: Any, group: str) -> list[Any]:
    """A form's visible fields of one group: "advanced" ones (from the settings schema) fold
    away so the usual form stays short; every other field is "basic"."""
    return [f for f in form.visible_fields() if getattr(f.field, "group", "basic") == group]


@register.filter
def any_errors(bound_fields: list[Any]) -> bool:
    return any(f.errors for f in bound_fields)
