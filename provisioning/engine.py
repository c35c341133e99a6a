"""The one door into the engine: plan, deploy, destroy, refresh, preview, cost, chat.

The dashboard calls only these functions (and reads the value types of `provisioning.model`,
`state`, `events`, `errors` and `aws`); each wires graph -> optimizer -> planner ->
orchestrator with the store, sink and AWS context it is handed. What the dashboard's forms
need to know of agents (providers, tools, package limits) is re-exported here, so that the
engine's inner layout can change without the dashboard noticing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioning.analysis import cost, drift
from provisioning.analysis.advice import Advice
from provisioning.analysis.advice import advise as _advise
from provisioning.analysis.cost import Assumptions as CostAssumptions
from provisioning.analysis.cost import Estimate as CostEstimate
from provisioning.analysis.deployer_policy import policy_document as deployer_policy
from provisioning.analysis.drift import Orphan, deletable, delete_orphan
from provisioning.analysis.endpoints import Endpoint
from provisioning.analysis.endpoints import endpoints as _endpoints
from provisioning.analysis.log_reading import LEVELS as LOG_LEVELS
from provisioning.analysis.log_reading import (
    LogLine,
    LogPage,
    read_logs,  # a group's lines, request ids and levels
)
from provisioning.analysis.metric_reading import (
    ALARM_STATES,
    QUERIES,
    AlarmState,
    Series,
    read_metrics,  # an agent's series
)
from provisioning.analysis.metric_reading import alarm_states as _alarm_states
from provisioning.analysis.token_cost import TokenCost
from provisioning.analysis.token_cost import token_cost as _token_cost
from provisioning.apply.orchestrator import Orchestrator
from provisioning.aws import AwsContext
from provisioning.errors import BlueprintError
from provisioning.events import Event, EventStatus, ProgressSink
from provisioning.graph.agent_needs import PROVIDERS as MODEL_PROVIDERS
from provisioning.graph.agent_needs import model_problems
from provisioning.graph.builder import build as build_graph
from provisioning.graph.custom_permissions import confirmed_wildcards
from provisioning.graph.resource_graph import ResourceGraph, nodes_by_resource
from provisioning.graph.resource_graph import explain as explain_link
from provisioning.graph.secret_params import policy_problems
from provisioning.model.blueprint import Blueprint
from provisioning.model.spec import properties_hash, to_jsonable
from provisioning.optimize.optimizer import Optimized, optimize
from provisioning.plan.planner import Plan, make_plan
from provisioning.state import RecordedResource, StateStore
from provisioning.strands import try_agent
from provisioning.strands.layers import PYPI_SIMPLE, Builds
from provisioning.strands.packaging import (
    MB,
    UNZIPPED_LIMIT,
    PackagingError,
    excluded,
    zip_files,
    zip_members,
)
from provisioning.strands.requirements import (
    RequirementRefused,
    parse_requirements,
    requirements_file,
)
from provisioning.strands.tools_catalogue import lambda_choices as tool_choices
from provisioning.strands.tools_catalogue import tool_problems
from provisioning.strands.try_agent import LOCAL_RUNS_OFF, Answer, Usage

__all__ = [
    "ALARM_STATES",
    "LOCAL_RUNS_OFF",
    "LOG_LEVELS",
    "MB",
    "MODEL_PROVIDERS",
    "QUERIES",
    "UNZIPPED_LIMIT",
    "Advice",
    "AlarmState",
    "Answer",
    "CostAssumptions",
    "CostEstimate",
    "Endpoint",
    "LogLine",
    "LogPage",
    "Orphan",
    "PackagingError",
    "RequirementRefused",
    "Series",
    "TokenCost",
    "Usage",
    "deletable",
    "delete_orphan",
    "deployer_policy",
    "excluded",
    "model_problems",
    "parse_requirements",
    "properties_hash",
    "read_logs",
    "read_metrics",
    "requirements_file",
    "tool_choices",
    "tool_problems",
    "zip_files",
    "zip_members",
]


@dataclass(frozen=True)
class EngineSettings:
    max_workers: int = 16
    """Concurrent AWS calls: control-plane APIs throttle, so tens, not hundreds."""
    pip_index_url: str = PYPI_SIMPLE
    """The one package index dependency layers are installed from."""


@dataclass(frozen=True)
class RunResult:
    status: str
    """"SUCCEEDED", "FAILED" or "CANCELLED"."""
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""
    plan: dict[str, Any] = field(default_factory=dict)


CancelCheck = Callable[[], bool]


def _graph(blueprint: Blueprint) -> Optimized:
    optimized = optimize(build_graph(blueprint), blueprint)
    # Checked again after the rewrites: whatever merged the policies, no `*` action deploys.
    graph = optimized.graph
    confirmed = confirmed_wildcards(blueprint.agents)
    late = policy_problems(graph.specs, confirmed)
    graph.problems.extend(p for p in late if p not in graph.problems)
    return optimized


def validate(blueprint: Blueprint) -> list[tuple[str, str, str]]:
    """What AWS would refuse later, per (node, field, message), without any AWS call."""
    return list(_graph(blueprint).graph.problems)


def endpoints(records: Mapping[str, RecordedResource]) -> list[Endpoint]:
    """Every deployed route: node, method, invoke URL, auth mode and an example request."""
    return _endpoints(records)


def advise(blueprint: Blueprint) -> list[Advice]:
    """Advice before a deploy, blocking first: settings that will not work (well) on AWS.

    Pure: no AWS call. `deploy` refuses a blueprint with blocking advice; `plan` carries all
    of it (`Plan.advice`), so a page or a script shows it next to the plan's problems.
    """
    return _advise(blueprint)


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
        optimized.graph,
        store.load(),
        aws,
        max_workers=settings.max_workers,
        refresh=refresh,
        intents=store.intents(),
    )
    result.decisions.extend(optimized.decisions)
    result.advice.extend(a.as_dict() for a in advise(blueprint))
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
    refused = [(a.node, a.field, a.message) for a in advise(blueprint) if a.blocking]
    if refused:
        raise BlueprintError(refused)  # what AWS refuses or cannot exist: deploy nothing
    the_plan = make_plan(
        optimized.graph,
        store.load(),
        aws,
        max_workers=settings.max_workers,
        intents=store.intents(),
    )
    if the_plan.problems:
        raise BlueprintError(the_plan.problems)  # a name another owner holds: touch nothing
    the_plan.decisions.extend(optimized.decisions)
    sink.emit(Event(None, None, "PLAN", EventStatus.INFO, _plan_line(the_plan)))
    orchestrator = Orchestrator(
        aws,
        store,
        sink,
        max_workers=settings.max_workers,
        cancelled=cancelled,
        builds=Builds(index_url=settings.pip_index_url),
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
    tally = orchestrator.destroy(records, intents=store.intents())  # leftovers of a crash
    return RunResult(tally.status, tally.counts(), "; ".join(tally.errors))


def _plan_line(the_plan: Plan) -> str:
    summary = the_plan.summary()
    parts = [f"{n} {action.lower().replace('_', ' ')}" for action, n in sorted(summary.items())]
    return "plan: " + (", ".join(parts) if parts else "nothing to do")


# --- review and drift ----------------------------------------------------------------
def fingerprint(blueprint: Mapping[str, Any], records: Mapping[str, RecordedResource]) -> str:
    """What a plan was made from: the blueprint snapshot and the recorded state, as one hash.

    A deploy of a reviewed plan compares this with the current one, so it runs only if
    neither the project nor the state moved since the review.
    """
    state = sorted(
        (lid, r.resource_type, r.physical_id, r.properties_hash) for lid, r in records.items()
    )
    text = json.dumps({"blueprint": blueprint, "state": state}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def refresh(
    store: StateStore,
    sink: ProgressSink,
    aws: AwsContext,
    *,
    settings: EngineSettings = EngineSettings(),
    orphans: bool = True,
) -> RunResult:
    """Read every recorded resource and report, per property, where AWS differs. Reads only.

    `plan` of the result holds {"drift": [ResourceDrift...], "summary": counts, "orphans": [...]}.
    """
    records = store.load()
    sink.emit(Event(None, None, "REFRESH", EventStatus.INFO, f"reading {len(records)} resources"))
    started = aws.clock()
    results = drift.check(aws, records, max_workers=settings.max_workers)
    for result in results:
        status = EventStatus.SUCCEEDED if result.status == drift.IN_SYNC else EventStatus.DRIFTED
        if result.status == drift.UNREADABLE:
            status = EventStatus.FAILED
        sink.emit(Event(result.logical_id, result.resource_type, "REFRESH", status, result.line()))
    counts = drift.summary(results)
    found: list[dict[str, Any]] = []
    if orphans:
        try:
            found = [o.as_dict() for o in drift.find_orphans(aws, records.values())]
        except Exception as exc:  # listing leftovers is a bonus: never fail the refresh for it
            message = f"orphan search failed: {exc}"
            sink.emit(Event(None, None, "REFRESH", EventStatus.INFO, message))
        if found:
            sink.emit(Event(None, None, "REFRESH", EventStatus.INFO, f"{len(found)} orphans"))
    counts["total"] = len(results)
    unreadable = [r for r in results if r.status == drift.UNREADABLE]
    sink.emit(
        Event(None, None, "REFRESH", EventStatus.INFO,
              f"refresh took {int((aws.clock() - started) * 1000)} ms")
    )  # fmt: skip
    return RunResult(
        "FAILED" if unreadable else "SUCCEEDED",
        counts,
        "; ".join(f"{r.logical_id}: {r.message}" for r in unreadable),
        {"drift": [r.as_dict() for r in results], "summary": counts, "orphans": found},
    )


# --- what a blueprint implies, without AWS: the canvas and its inspector --------------------------
@dataclass(frozen=True)
class Preview:
    problems: list[tuple[str, str, str]]
    """What AWS would refuse, per (node, field, message): the same list `validate` gives."""
    graph: ResourceGraph

    def resources_by_node(self) -> dict[str, list[str]]:
        return nodes_by_resource(self.graph)

    def node(self, key: str) -> dict[str, Any]:
        """What one node creates, grants its agent and sets in its environment, as JSON."""
        specs = [spec for spec in self.graph.specs.values() if spec.node == key]
        statements: list[Any] = []
        environment: dict[str, Any] = {}
        for spec in specs:
            if spec.resource_type == "iam:role":
                for policy in (spec.properties.get("inline_policies") or {}).values():
                    statements += list(policy.get("Statement", []))
            if spec.resource_type == "lambda:function":
                environment = dict(spec.properties.get("environment") or {})
        return {
            "creates": [
                {
                    "logical_id": spec.logical_id,
                    "type": spec.resource_type,
                    "name": str(spec.properties.get("name") or ""),
                }
                for spec in specs
            ],
            "statements": to_jsonable(statements),
            "environment": to_jsonable(environment),
        }

    def link(self, key: str) -> dict[str, Any]:
        """What one link adds: resources, statements and environment variables, as JSON."""
        return explain_link(self.graph, key)


def preview(blueprint: Blueprint) -> Preview:
    """The graph after the optimizer's rewrites, built once, and its problems."""
    optimized = _graph(blueprint)
    return Preview(list(optimized.graph.problems), optimized.graph)


# --- cost -------------------------------------------------------------------------------------------
def cost_inputs(
    the_plan: Plan, records: Mapping[str, RecordedResource]
) -> dict[str, dict[str, Any]]:
    """The facts a plan's monthly estimate needs, stored with the plan (no AWS needed later)."""
    return cost.inputs(the_plan, records)


def estimate_cost(
    inputs: Mapping[str, Mapping[str, Any]], region: str, assumptions: CostAssumptions
) -> CostEstimate:
    return cost.estimate(inputs, region, assumptions)


def ask_agent(aws: AwsContext, function: Mapping[str, Any], prompt: str, **options: Any) -> Answer:
    """The chat panel's door: the deployed agent's answer (try_agent.py)."""
    return try_agent.ask(aws, function, prompt, **options)


def answer_cost(model_id: str, usage: Usage) -> float | None:
    """One answer's model cost in USD from the price table, None when the model is not in it."""
    priced = _token_cost(model_id, usage.input_tokens, usage.output_tokens)
    return priced.amount if priced else None


def sweep_orphans(
    orphans: list[Mapping[str, Any]],
    sink: ProgressSink,
    aws: AwsContext,
    *,
    cancelled: CancelCheck = lambda: False,
) -> RunResult:
    """Delete the orphans a refresh listed (`Orphan.as_dict()` each), one event apiece.

    A run of its own, so that what is deleted from AWS outside a deploy is in the history
    like every other change. An orphan that is already gone counts as deleted.
    """
    sink.emit(Event(None, None, "DELETE", EventStatus.INFO, f"deleting {len(orphans)} orphans"))
    counts = {"deleted": 0, "failed": 0, "skipped": 0}
    errors: list[str] = []
    for entry in orphans:
        orphan = drift.Orphan(
            arn=str(entry["arn"]),
            service=str(entry["service"]),
            name=str(entry["name"]),
            stage=str(entry.get("stage") or ""),
            logical_id=str(entry.get("logical_id") or ""),
        )
        label = orphan.logical_id or orphan.arn
        kind = f"orphan:{orphan.service}"
        if cancelled():
            counts["skipped"] += 1
            sink.emit(Event(label, kind, "DELETE", EventStatus.SKIPPED, "cancelled"))
            continue
        sink.emit(Event(label, kind, "DELETE", EventStatus.STARTED, f"deleting {orphan.arn}"))
        started = aws.clock()
        try:
            drift.delete_orphan(aws, orphan)
        except Exception as exc:  # one orphan's refusal must not stop the others
            counts["failed"] += 1
            errors.append(f"{orphan.arn}: {exc}")
            sink.emit(Event(label, kind, "DELETE", EventStatus.FAILED, str(exc)))
            continue
        counts["deleted"] += 1
        elapsed = int((aws.clock() - started) * 1000)
        sink.emit(Event(label, kind, "DELETE", EventStatus.SUCCEEDED, orphan.arn, elapsed))
    status = "FAILED" if errors else ("CANCELLED" if counts["skipped"] else "SUCCEEDED")
    return RunResult(status, counts, "; ".join(errors))


# --- what a deployed agent does: its log lines, numbers and alarms ----------------------------
def log_group_of(function_name: str) -> str:
    """Where Lambda writes a function's lines (the engine creates the group with it)."""
    return f"/aws/lambda/{function_name}"


def alarm_states(aws: AwsContext, names: Iterable[str]) -> dict[str, AlarmState]:
    """OK / ALARM / INSUFFICIENT_DATA per alarm name (MISSING where CloudWatch has none)."""
    return _alarm_states(aws, names)


def token_cost(model_id: str, input_tokens: float, output_tokens: float) -> TokenCost | None:
    """The model's price for so many tokens, from the price table; None if not priced."""
    return _token_cost(model_id, input_tokens, output_tokens)
