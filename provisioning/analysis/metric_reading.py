"""An agent's numbers from CloudWatch: Lambda's own metrics and the agent's token counts.

Lambda publishes Invocations, Errors, Throttles, Duration and ConcurrentExecutions per
function; the generated handler prints one embedded-metric-format line per answer, which
CloudWatch turns into the `StrandsDeploy` metrics (per Project, Stage and Agent). One
GetMetricData call reads them all; a series is plain (time, value) pairs, oldest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from provisioning.aws import AwsContext
from provisioning.errors import aws_errors

AGENT_NAMESPACE = "StrandsDeploy"
ALARM_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")


@dataclass(frozen=True)
class Query:
    key: str
    label: str
    namespace: str
    metric: str
    stat: str
    unit: str


QUERIES: tuple[Query, ...] = (
    Query("invocations", "Invocations", "AWS/Lambda", "Invocations", "Sum", "count"),
    Query("errors", "Errors", "AWS/Lambda", "Errors", "Sum", "count"),
    Query("throttles", "Throttles", "AWS/Lambda", "Throttles", "Sum", "count"),
    Query("duration_avg", "Duration average", "AWS/Lambda", "Duration", "Average", "ms"),
    Query("duration_p50", "Duration p50", "AWS/Lambda", "Duration", "p50", "ms"),
    Query("duration_p95", "Duration p95", "AWS/Lambda", "Duration", "p95", "ms"),
    Query("duration_p99", "Duration p99", "AWS/Lambda", "Duration", "p99", "ms"),
    Query("concurrency", "Concurrent executions", "AWS/Lambda", "ConcurrentExecutions",
          "Maximum", "count"),
    Query("input_tokens", "Input tokens", AGENT_NAMESPACE, "InputTokens", "Sum", "count"),
    Query("output_tokens", "Output tokens", AGENT_NAMESPACE, "OutputTokens", "Sum", "count"),
    Query("model_latency", "Model latency", AGENT_NAMESPACE, "ModelLatencyMs", "Average", "ms"),
    Query("tool_calls", "Tool calls", AGENT_NAMESPACE, "ToolCalls", "Sum", "count"),
    Query("cycles", "Agent cycles", AGENT_NAMESPACE, "Cycles", "Sum", "count"),
)  # fmt: skip


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    stat: str
    unit: str
    points: list[tuple[float, float]] = field(default_factory=list)
    """(seconds since the epoch, value), oldest first; periods without data are absent."""
    note: str = ""
    """Why a series could not be read at all ("" when it was)."""

    @property
    def total(self) -> float:
        return sum(value for _, value in self.points)

    @property
    def peak(self) -> float:
        return max((value for _, value in self.points), default=0.0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "stat": self.stat,
            "unit": self.unit,
            "points": [[t, v] for t, v in self.points],
            "note": self.note,
        }


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str
    """OK, ALARM or INSUFFICIENT_DATA; MISSING when CloudWatch has no such alarm."""
    reason: str = ""
    since: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "state": self.state, "reason": self.reason, "since": self.since}


def _dimensions(query: Query, function_name: str, agent: Mapping[str, str]) -> list[dict[str, str]]:
    if query.namespace == AGENT_NAMESPACE:
        return [{"Name": name, "Value": value} for name, value in agent.items()]
    return [{"Name": "FunctionName", "Value": function_name}]


def read_metrics(
    aws: AwsContext,
    function_name: str,
    project: str,
    stage: str,
    agent: str,
    *,
    start: datetime,
    end: datetime,
    period: int = 60,
) -> dict[str, Series]:
    """Every series of QUERIES for one agent, keyed by `Query.key`, from start to end."""
    dims = {"Project": project, "Stage": stage, "Agent": agent}
    # The sandbox (moto) answers a percentile with a null its own reply cannot carry (a
    # 500): there only the average duration is read.
    asked = [
        (i, q) for i, q in enumerate(QUERIES) if not (aws.target.is_sandbox and _percentile(q))
    ]
    queries = [
        {
            "Id": f"m{i}",
            "Label": q.key,
            "MetricStat": {
                "Metric": {
                    "Namespace": q.namespace,
                    "MetricName": q.metric,
                    "Dimensions": _dimensions(q, function_name, dims),
                },
                "Period": period,
                "Stat": q.stat,
            },
            "ReturnData": True,
        }
        for i, q in asked
    ]
    found: dict[str, dict[float, float]] = {f"m{i}": {} for i in range(len(QUERIES))}
    client = aws.client("cloudwatch")
    request: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
    with aws_errors("reading metrics", function_name):
        while True:
            reply = client.get_metric_data(**request)
            for result in reply.get("MetricDataResults", []):
                points = found.setdefault(str(result["Id"]), {})
                for at, value in zip(
                    result.get("Timestamps", []), result.get("Values", []), strict=False
                ):
                    if value is not None:
                        points[at.timestamp()] = float(value)
            if not reply.get("NextToken"):
                break
            request["NextToken"] = reply["NextToken"]
    return {
        q.key: Series(
            q.key,
            q.label,
            q.stat,
            q.unit,
            sorted(found[f"m{i}"].items()),
            "" if (i, q) in asked else SANDBOX_PERCENTILES,
        )
        for i, q in enumerate(QUERIES)
    }


SANDBOX_PERCENTILES = "the sandbox computes no percentiles: see the average"


def _percentile(query: Query) -> bool:
    return query.stat.startswith("p")


def alarm_states(aws: AwsContext, names: Iterable[str]) -> dict[str, AlarmState]:
    """Each named alarm's state; an alarm CloudWatch does not have is MISSING."""
    wanted = list(dict.fromkeys(n for n in names if n))
    states = {name: AlarmState(name, "MISSING") for name in wanted}
    client = aws.client("cloudwatch")
    for i in range(0, len(wanted), 100):  # DescribeAlarms takes at most 100 names
        chunk = wanted[i : i + 100]
        with aws_errors("reading alarm states", ", ".join(chunk)):
            for page in client.get_paginator("describe_alarms").paginate(
                AlarmNames=chunk, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
            ):
                for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                    updated = alarm.get("StateUpdatedTimestamp")
                    states[alarm["AlarmName"]] = AlarmState(
                        alarm["AlarmName"],
                        str(alarm.get("StateValue", "INSUFFICIENT_DATA")),
                        str(alarm.get("StateReason", "")),
                        updated.isoformat() if updated else "",
                    )
    return states
