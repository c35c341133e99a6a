"""What the observe pages show: an agent's lines, charts, token cost and alarms; a stage's
summary. Every read goes to AWS through `reading` with the stage's credentials."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from dashboard.observe import reading
from dashboard.observe.charts import Chart, charts
from dashboard.observe.ranges import TimeRange
from dashboard.projects.models import Agent, Stage
from provisioning import engine

User = AbstractBaseUser | AnonymousUser
LEVELS = engine.LOG_LEVELS


def _who(user: User | None) -> str:
    return getattr(user, "username", "") or "cli"


@dataclass(frozen=True)
class LogView:
    deployed: bool
    lines: list[dict[str, Any]] = field(default_factory=list)
    missing: bool = False
    error: str = ""
    last_ms: int = 0
    """The newest line's time: where following starts."""


def agent_log_lines(
    *,
    stage: Stage,
    agent: Agent,
    user: User | None,
    span: TimeRange,
    filter_text: str = "",
    level: str = "",
    limit: int = 200,
) -> LogView:
    function = reading.agent_function(stage=stage, agent=agent.name)
    if function is None:
        return LogView(deployed=False)
    aws = reading.stage_reader(stage, who=_who(user))
    read = reading.read_agent_logs(
        aws, function, start_ms=span.start_ms, end_ms=span.end_ms if span.key == "custom" else None,
        filter_text=filter_text, level=level if level in LEVELS else "", limit=limit,
    )  # fmt: skip
    last = max((line["at_ms"] for line in read.lines), default=span.start_ms)
    return LogView(True, read.lines, read.missing, read.error, last)


@dataclass(frozen=True)
class ModelCost:
    input_tokens: float
    output_tokens: float
    cost: engine.TokenCost | None


@dataclass(frozen=True)
class MetricsView:
    deployed: bool
    charts: list[Chart] = field(default_factory=list)
    error: str = ""
    totals: dict[str, float] = field(default_factory=dict)
    model: ModelCost | None = None


def agent_metrics(*, stage: Stage, agent: Agent, user: User | None, span: TimeRange) -> MetricsView:
    function = reading.agent_function(stage=stage, agent=agent.name)
    if function is None:
        return MetricsView(deployed=False)
    aws = reading.stage_reader(stage, who=_who(user))
    read = reading.read_agent_metrics(aws, function, agent=agent.name, span=span)
    if read.error:
        return MetricsView(True, error=read.error)
    totals = {key: series.total for key, series in read.series.items()}
    peaks = {key: series.peak for key, series in read.series.items()}
    totals["duration_p95_peak"] = peaks.get("duration_p95", 0.0)
    totals["duration_avg_peak"] = peaks.get("duration_avg", 0.0)
    tokens_in, tokens_out = totals.get("input_tokens", 0.0), totals.get("output_tokens", 0.0)
    model = ModelCost(
        tokens_in, tokens_out, engine.token_cost(agent.model_id, tokens_in, tokens_out)
    )
    return MetricsView(True, charts(read.series, span), "", totals, model)


def agent_alarms(*, stage: Stage, agent: Agent) -> list[dict[str, str]]:
    return reading.alarms_by_node(stage=stage).get(agent.key, [])


@dataclass(frozen=True)
class AgentSummary:
    agent: Agent
    metrics: MetricsView
    alarms: list[dict[str, str]]


def stage_summary(*, stage: Stage, user: User | None, span: TimeRange) -> list[AgentSummary]:
    """Each deployed agent of the stage with its totals, cost and alarms."""
    alarms = reading.alarms_by_node(stage=stage)
    rows = []
    for agent in stage.project.agents.all().order_by("name"):
        view = agent_metrics(stage=stage, agent=agent, user=user, span=span)
        if view.deployed:
            rows.append(AgentSummary(agent, view, alarms.get(agent.key, [])))
    return rows


def stage_cost(rows: list[AgentSummary]) -> float:
    return sum(
        r.metrics.model.cost.amount for r in rows if r.metrics.model and r.metrics.model.cost
    )
