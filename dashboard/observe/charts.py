"""Metric series as small SVG line charts, drawn by the template from these numbers.

A library (pygal and the like) was weighed and left out: each chart is one to four
polylines on a fixed frame, which a template draws from a list of points; what this module
adds is only the scaling of values to the frame and the legend's figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dashboard.observe.ranges import TimeRange
from provisioning import engine

WIDTH, HEIGHT, PAD = 480, 140, 6

# Which series share a chart: the page's order, titles and units.
CHARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("invocations", "Invocations", ("invocations",)),
    ("errors", "Errors and throttles", ("errors", "throttles")),
    ("duration", "Duration (ms)", ("duration_p50", "duration_p95", "duration_p99", "duration_avg")),
    ("concurrency", "Concurrent executions", ("concurrency",)),
    ("tokens", "Tokens", ("input_tokens", "output_tokens")),
    ("model_latency", "Model latency (ms, average)", ("model_latency",)),
    ("tool_calls", "Tool calls", ("tool_calls",)),
)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float
    label: str
    """"14:02 UTC: 3" - shown when the pointer rests on the point."""


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    points: list[Point]
    total: float
    peak: float
    note: str

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def values(self) -> str:
        """The values drawn, for tests and screen readers' data tables."""
        return ",".join(_figure(p.value) for p in self.points)


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    lines: list[Line]
    top: float
    """The value at the top edge of the frame."""

    @property
    def empty(self) -> bool:
        return not any(line.points for line in self.lines)


def charts(series: dict[str, engine.Series], span: TimeRange) -> list[Chart]:
    return [chart(key, title, [series[k] for k in keys if k in series], span)
            for key, title, keys in CHARTS]  # fmt: skip


def chart(key: str, title: str, series: Sequence[engine.Series], span: TimeRange) -> Chart:
    top = max((s.peak for s in series), default=0.0) or 1.0
    start, end = span.start.timestamp(), span.end.timestamp()
    width = max(end - start, 1.0)

    def place(at: float, value: float) -> Point:
        x = PAD + (at - start) / width * (WIDTH - 2 * PAD)
        y = HEIGHT - PAD - value / top * (HEIGHT - 2 * PAD)
        when = datetime.fromtimestamp(at, UTC)
        return Point(x, y, value, f"{when:%H:%M} UTC: {_figure(value)}")

    lines = [
        Line(s.key, s.label, [place(at, v) for at, v in s.points], s.total, s.peak, s.note)
        for s in series
    ]
    return Chart(key, title, lines, top)


def _figure(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
