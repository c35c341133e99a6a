"""The one door into the engine: plan, deploy and destroy a blueprint.

The dashboard calls only these functions; each wires graph -> optimizer ->
planner -> orchestrator with the store, sink and AWS context it is handed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from provisioning.aws import AwsContext
from provisioning.blueprint import Blueprint
from provisioning.errors import BlueprintError
from provisioning.events import Event, EventStatus, ProgressSink
from provisioning.graph import build as build_graph
from provisioning.optimizer import Optimized, optimize
from provisioning.orchestrator import Orchestrator
from provisioning.planner import Plan, make_plan
from provisioning.state import StateStore


@dataclass(frozen=True)
class EngineSettings:
    max_workers: int = 16
    """Concurrent AWS calls: control-plane APIs throttle, so tens, not hundreds."""


@dataclass(frozen=True)
class RunResult:
    status: str
    """"SUCCEEDED", "FAILED" or "CANCELLED"."""
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""
    plan: dict[str, Any] = field(default_factory=dict)


CancelCheck = Callable[[], bool]


def _graph(blueprint: Blueprint) -> Optimized:
    return optimize(build_graph(blueprint), blueprint)


def validate(blueprint: Blueprint) -> list[tuple[str, str, str]]:
    """What AWS would refuse later, per (node, field, message), without any AWS call."""
    return list(_graph(blueprint).graph.problems)


def plan(
    blueprint: Blueprint,
    store: StateStore,
    aws: AwsContext,
    *,
    settings: EngineSettings = EngineSettings(),
    refresh: bool = True,
) -> Plan:
    optimized = _graph(blueprint)
    result = make_plan(
        optimized.graph, store.load(), aws, max_workers=settings.max_workers, refresh=refresh
    )
    result.decisions.extend(optimized.decisions)
    return result


def deploy(
    blueprint: Blueprint,
    store: StateStore,
    sink: ProgressSink,
    aws: AwsContext,
    *,
    settings: EngineSettings = EngineSettings(),
    cancelled: CancelCheck = lambda: False,
) -> RunResult:
    optimized = _graph(blueprint)
    if optimized.graph.problems:
        raise BlueprintError(optimized.graph.problems)
    the_plan = make_plan(optimized.graph, store.load(), aws, max_workers=settings.max_workers)
    the_plan.decisions.extend(optimized.decisions)
    sink.emit(Event(None, None, "PLAN", EventStatus.INFO, _plan_line(the_plan)))
    orchestrator = Orchestrator(
        aws, store, sink, max_workers=settings.max_workers, cancelled=cancelled
    )
    tally = orchestrator.apply(the_plan, optimized.graph.specs)
    return RunResult(tally.status, tally.counts(), "; ".join(tally.errors), the_plan.as_dict())


def destroy(
    store: StateStore,
    sink: ProgressSink,
    aws: AwsContext,
    *,
    settings: EngineSettings = EngineSettings(),
    cancelled: CancelCheck = lambda: False,
) -> RunResult:
    records = store.load()
    sink.emit(Event(None, None, "DELETE", EventStatus.INFO, f"destroying {len(records)} resources"))
    orchestrator = Orchestrator(
        aws, store, sink, max_workers=settings.max_workers, cancelled=cancelled
    )
    tally = orchestrator.destroy(records)
    return RunResult(tally.status, tally.counts(), "; ".join(tally.errors))


def _plan_line(the_plan: Plan) -> str:
    summary = the_plan.summary()
    parts = [f"{n} {action.lower().replace('_', ' ')}" for action, n in sorted(summary.items())]
    return "plan: " + (", ".join(parts) if parts else "nothing to do")
