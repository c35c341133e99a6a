"""Time ranges of the log and metric pages: 15 min / 1 h / 24 h, or custom, and `--since`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dashboard.errors import ServiceError

PRESETS: dict[str, tuple[str, timedelta]] = {
    "15m": ("15 min", timedelta(minutes=15)),
    "1h": ("1 hour", timedelta(hours=1)),
    "24h": ("24 hours", timedelta(hours=24)),
}
CUSTOM = "custom"
DEFAULT = "1h"
MAX_SPAN = timedelta(days=15)
"""CloudWatch keeps 1-minute data for 15 days: a longer custom range would chart gaps."""
MAX_POINTS = 240
"""Points per chart line: enough to see a spike, few enough to draw at once."""
_SINCE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class TimeRange:
    key: str
    start: datetime
    end: datetime

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)

    @property
    def period(self) -> int:
        """Seconds per metric point: a whole minute or more (CloudWatch's standard
        resolution), so that the range holds at most MAX_POINTS."""
        span = (self.end - self.start).total_seconds()
        return max(60, math.ceil(span / MAX_POINTS / 60) * 60)

    @property
    def label(self) -> str:
        if self.key in PRESETS:
            return f"last {PRESETS[self.key][0]}"
        return f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"


def time_range(
    key: str | None, start: str = "", end: str = "", *, now: datetime | None = None
) -> TimeRange:
    """A preset by key, or `custom` from two `YYYY-MM-DDTHH:MM` times in UTC."""
    now = now or datetime.now(UTC)
    key = key or DEFAULT
    if key in PRESETS:
        # To the end of the current minute: CloudWatch's newest point is this minute's.
        end_ = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        return TimeRange(key, end_ - PRESETS[key][1], end_)
    if key != CUSTOM:
        raise ServiceError(f"unknown time range {key!r}: pick 15m, 1h, 24h or custom")
    begin, until = _utc(start, "start"), (_utc(end, "end") if end else now)
    if begin >= until:
        raise ServiceError("the range must start before it ends", field="start")
    if until - begin > MAX_SPAN:
        raise ServiceError("a custom range is at most 15 days long", field="start")
    return TimeRange(CUSTOM, begin, until)


def _utc(text: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ServiceError(f"give the {field} as YYYY-MM-DD HH:MM (UTC)", field=field) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def since(text: str) -> timedelta:
    """`10m`, `2h`, `1d`, `30s`: how far back the `logs` command starts."""
    match = _SINCE.match(text or "")
    if not match:
        raise ServiceError(f"--since takes a number and s, m, h or d (like 10m), not {text!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
