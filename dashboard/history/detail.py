"""What a run's page explains, computed from stored data only: the snapshot diff, the timeline
and a plan's findings.

`snapshot_diff` compares two blueprint snapshots (the JSON on `Deployment.blueprint`)
node by node: agents (model, prompt, tools, memory, ...), components (settings), links
and stage settings. `timeline` turns a run's events into Gantt bars: each resource
from its `started` event to its `succeeded` / `failed` one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class NodeChange:
    key: str
    """"agent:support", "bucket:docs", "link agent:support->table:notes", "stage settings"."""
    change: str
    """"added", "removed" or "changed"."""
    fields: tuple[FieldChange, ...] = ()


def _nodes(snapshot: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    nodes: dict[str, dict[str, Any]] = {}
    for agent in snapshot.get("agents") or ():
        nodes[f"agent:{agent['name']}"] = {k: v for k, v in agent.items() if k != "name"}
    for component in snapshot.get("components") or ():
        key = f"{component['kind']}:{component['name']}"
        nodes[key] = dict(component.get("settings") or {})
    for link in snapshot.get("links") or ():
        nodes[f"link {link['source']}->{link['target']}"] = {
            "kind": link.get("kind", ""),
            **dict(link.get("settings") or {}),
        }
    settings = dict(snapshot.get("settings") or {})
    if snapshot.get("region"):
        settings["region"] = snapshot["region"]
    nodes["stage settings"] = settings
    return nodes


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def snapshot_diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[NodeChange]:
    """Node by node, in a stable order; `old=None` (a first deploy) shows everything added."""
    before, after = _nodes(old or {}), _nodes(new)
    if old is None:
        before = {}
    changes: list[NodeChange] = []
    for key in sorted(before.keys() | after.keys()):
        if key not in before:
            fields = tuple(FieldChange(n, None, v) for n, v in sorted(after[key].items()))
            changes.append(NodeChange(key, "added", fields))
        elif key not in after:
            changes.append(NodeChange(key, "removed"))
        else:
            names = sorted(before[key].keys() | after[key].keys())
            fields = tuple(
                FieldChange(n, before[key].get(n), after[key].get(n))
                for n in names
                if _plain(before[key].get(n)) != _plain(after[key].get(n))
            )
            if fields:
                changes.append(NodeChange(key, "changed", fields))
    return changes


@dataclass(frozen=True)
class Bar:
    resource: str
    type: str
    action: str
    status: str
    start_ms: int
    duration_ms: int


@dataclass(frozen=True)
class Timeline:
    bars: list[Bar]
    total_ms: int

    def scaled(self, width: float = 100.0) -> list[dict[str, Any]]:
        """Bars as percentages of the run's length, for the SVG."""
        span = max(1, self.total_ms)
        return [
            {
                "bar": bar,
                "x": round(bar.start_ms / span * width, 3),
                "w": round(max(bar.duration_ms / span * width, 0.4), 3),
            }
            for bar in self.bars
        ]


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return parse_datetime(str(value).replace("Z", "+00:00")) if value else None


def timeline(events: Sequence[Mapping[str, Any]]) -> Timeline:
    """Bars from each resource's first `started` to its last finishing event, in start order."""
    starts: dict[str, tuple[datetime, Mapping[str, Any]]] = {}
    ends: dict[str, tuple[datetime, Mapping[str, Any]]] = {}
    first: datetime | None = None
    last: datetime | None = None
    for event in events:
        at = _moment(event.get("at"))
        if at is None:
            continue
        first = at if first is None or at < first else first
        last = at if last is None or at > last else last
        resource = event.get("resource")
        if not resource:
            continue
        if event.get("status") == "started":
            starts.setdefault(resource, (at, event))
        elif event.get("status") in ("succeeded", "failed") and resource in starts:
            ends[resource] = (at, event)
    if first is None or last is None:
        return Timeline([], 0)
    bars = []
    for resource, (start, event) in sorted(starts.items(), key=lambda item: item[1][0]):
        end, final = ends.get(resource, (last, {"status": "running"}))
        bars.append(
            Bar(
                resource=resource,
                type=str(event.get("type") or ""),
                action=str(event.get("action") or ""),
                status=str(final.get("status")),
                start_ms=int((start - first).total_seconds() * 1000),
                duration_ms=int((end - start).total_seconds() * 1000),
            )
        )
    return Timeline(bars, int((last - first).total_seconds() * 1000))


# --- a plan's findings -----------------------------------------------------------------------------
BLOCKING = "blocking"


def plan_findings(plan: Mapping[str, Any]) -> list[dict[str, str]]:
    """The plan's problems (each blocking) and advice as one list of `Advice.as_dict()`
    shapes, blocking first. A problem that blocking advice already names (same node and
    field) is left out: the advice says the same with its fix."""
    advice = [dict(a) for a in plan.get("advice") or []]
    covered = {(a["node"], a["field"]) for a in advice if a["severity"] == BLOCKING}
    problems = [
        {
            "code": "problem",
            "severity": BLOCKING,
            "node": str(p["node"]),
            "field": str(p["field"]),
            "message": str(p["message"]),
            "fix": "",
        }
        for p in plan.get("problems") or []
        if (p["node"], p["field"]) not in covered
    ]
    return sorted(problems + advice, key=lambda f: f["severity"] != BLOCKING)


def blocking_findings(plan: Mapping[str, Any]) -> list[dict[str, str]]:
    return [f for f in plan_findings(plan) if f["severity"] == BLOCKING]
