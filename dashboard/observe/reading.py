"""The stage's AWS, read for watching: log lines, metric series and alarm states.

All of it goes through the engine's public face with the stage's own credentials. Reads
fail for reasons a person can act on (expired role, no permission, the sandbox is down):
those come back as text for the page, never as a server error.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

from dashboard.access import credentials
from dashboard.observe.ranges import TimeRange
from dashboard.projects.models import Stage
from dashboard.runs.models import DeployedResource
from provisioning import engine
from provisioning.aws import AwsContext

logger = logging.getLogger(__name__)
ALARMS_CACHE_S = 15
"""The canvas asks often; alarms change at most once per evaluation period (a minute)."""
UNREAD = "UNKNOWN"


@dataclass(frozen=True)
class LogRead:
    lines: list[dict[str, Any]] = field(default_factory=list)
    missing: bool = False
    error: str = ""


@dataclass(frozen=True)
class MetricsRead:
    series: dict[str, engine.Series] = field(default_factory=dict)
    error: str = ""


def stage_reader(stage: Stage, *, who: str) -> AwsContext:
    return credentials.stage_aws(
        stage, run=f"observe-{who}", project=stage.project.name, stage_name=stage.name
    )


def agent_function(*, stage: Stage, agent: str) -> DeployedResource | None:
    """The agent's deployed Lambda function in the stage, if any."""
    return DeployedResource.objects.filter(
        stage=stage, logical_id=f"agent/{agent}/function"
    ).first()


def function_name(function: DeployedResource) -> str:
    return str(function.properties.get("name") or function.physical_id)


def read_agent_logs(
    aws: AwsContext,
    function: DeployedResource,
    *,
    start_ms: int,
    end_ms: int | None = None,
    filter_text: str = "",
    level: str = "",
    limit: int = 200,
) -> LogRead:
    group = engine.log_group_of(function_name(function))
    try:
        page = engine.read_logs(
            aws, group, start=start_ms, end=end_ms, filter_text=filter_text, level=level,
            limit=limit,
        )  # fmt: skip
    except Exception as exc:  # a read for a page: say why, whatever AWS (or STS) answered
        return LogRead(error=f"could not read {group}: {exc}")
    return LogRead([line.as_dict() for line in page.lines], page.missing)


def read_agent_metrics(
    aws: AwsContext, function: DeployedResource, *, agent: str, span: TimeRange
) -> MetricsRead:
    stage = function.stage
    try:
        series = engine.read_metrics(
            aws, function_name(function), stage.project.name, stage.name, agent,
            start=span.start, end=span.end, period=span.period,
        )  # fmt: skip
    except Exception as exc:  # as above: the page says why
        return MetricsRead(error=f"could not read the metrics of {agent}: {exc}")
    return MetricsRead(series)


def alarm_rows(*, stage: Stage) -> list[DeployedResource]:
    return list(DeployedResource.objects.filter(stage=stage, type="cloudwatch:alarm"))


def alarm_name(row: DeployedResource) -> str:
    return str(row.properties.get("name") or row.physical_id)


def alarms_by_node(*, stage: Stage) -> dict[str, list[dict[str, str]]]:
    """Per node key, its alarms as {name, state, reason}; briefly cached per stage.

    No alarm recorded means no AWS call; a failed read shows every alarm as UNKNOWN."""
    rows = alarm_rows(stage=stage)
    if not rows:
        return {}
    key = f"observe:alarms:{stage.pk}:" + ",".join(sorted(alarm_name(r) for r in rows))
    states: dict[str, dict[str, str]] | None = cache.get(key)
    if states is None:
        states = read_states(stage, [alarm_name(r) for r in rows])
        cache.set(key, states, ALARMS_CACHE_S)
    found: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        name = alarm_name(row)
        state = states.get(name, {"state": UNREAD, "reason": ""})
        found[row.node].append({"name": name, **state})
    return dict(found)


def read_states(stage: Stage, names: list[str]) -> dict[str, dict[str, str]]:
    try:
        read = engine.alarm_states(stage_reader(stage, who="alarms"), names)
    except Exception as exc:  # the canvas must draw even when AWS cannot be read
        logger.warning("could not read the alarm states of %s: %s", stage, exc)
        return {name: {"state": UNREAD, "reason": str(exc)} for name in names}
    return {name: {"state": s.state, "reason": s.reason} for name, s in read.items()}
