"""CloudWatch alarms on what is deployed, as resources of the stage.

Per agent with `alarms` on: failed invocations above `alarm_error_rate_pct` of all of them,
any throttled invocation, a 95th percentile duration above `alarm_p95_near_timeout_pct` of
its timeout, and (generated handler only: it reports the tokens) more model tokens in a day
than `alarm_tokens_per_day`. Per queue that triggers such an agent and has a dead-letter
queue: any message in it. Every alarm notifies the stage's `alarms` topic, made only when
some alarm exists (the dashboard subscribes people and channels to it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioning.graph.components import Namer
from provisioning.model import links as L
from provisioning.model.blueprint import Agent, Blueprint
from provisioning.model.spec import Ref, ResourceSpec

TOPIC = "stage/alarms"
METRICS_NAMESPACE = "StrandsDeploy"
"""Where the generated handler reports its metrics (templates/lambda_handler.py)."""
FIVE_MINUTES = 300
DAY = 86400


def alarm_specs(
    bp: Blueprint, specs: Mapping[str, ResourceSpec], name: Namer
) -> list[ResourceSpec]:
    found: list[ResourceSpec] = []
    watched = {a.key: a for a in bp.agents if a.alarms and f"agent/{a.name}/function" in specs}
    for agent in watched.values():
        function = str(specs[f"agent/{agent.name}/function"].properties["name"])
        found += _agent_alarms(bp, agent, function, name)
    for link in bp.links:
        queue = f"queue/{L.node_name(link.source)}"
        dlq = specs.get(f"{queue}/dlq")
        if L.node_kind(link.source) == "queue" and link.target in watched and dlq is not None:
            spec = _dead_letter_alarm(link.source, str(dlq.properties["name"]), name)
            if spec.logical_id not in {s.logical_id for s in found}:
                found.append(spec)
    if found:
        found.append(_topic(name))
    return found


def _topic(name: Namer) -> ResourceSpec:
    return ResourceSpec(
        TOPIC,
        "sns:topic",
        {
            "name": name("alarms", kind="sns"),
            "fifo": False,
            "content_based_deduplication": False,
            "kms_master_key_id": None,
            "display_name": "Strands Deploy alarms",
        },
    )


def _alarm(
    logical_id: str, node: str, alarm_name: str, description: str, **properties: Any
) -> ResourceSpec:
    return ResourceSpec(
        logical_id,
        "cloudwatch:alarm",
        {
            "name": alarm_name,
            "description": description,
            "metric": None,
            "metrics": None,
            "treat_missing_data": "notBreaching",  # no traffic is no trouble
            "alarm_actions": [Ref(TOPIC, "arn")],
            **properties,
        },
        node=node,
    )


def _lambda_metric(function: str, metric: str, statistic: str) -> dict[str, Any]:
    return {
        "namespace": "AWS/Lambda",
        "metric_name": metric,
        "dimensions": {"FunctionName": function},
        "statistic": statistic,
        "period_s": FIVE_MINUTES,
    }


def _stat(
    query_id: str, namespace: str, metric: str, dimensions: dict[str, str], period: int
) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            },
            "Period": period,
            "Stat": "Sum",
        },
        "ReturnData": False,
    }


def _agent_alarms(bp: Blueprint, agent: Agent, function: str, name: Namer) -> list[ResourceSpec]:
    base, node = f"agent/{agent.name}/alarm", agent.key
    fn = {"FunctionName": function}
    slow_ms = agent.timeout_s * 1000 * agent.alarm_p95_near_timeout_pct / 100
    found = [
        _alarm(
            f"{base}/error-rate", node, name(agent.name, "error-rate", kind="cloudwatch_alarm"),
            f"More than {agent.alarm_error_rate_pct}% of the invocations of agent "
            f"{agent.name} failed in 5 minutes",
            metrics=[
                _stat("errors", "AWS/Lambda", "Errors", fn, FIVE_MINUTES),
                _stat("invocations", "AWS/Lambda", "Invocations", fn, FIVE_MINUTES),
                {
                    "Id": "error_rate",
                    "Expression": "IF(invocations > 0, 100 * errors / invocations, 0)",
                    "Label": "Failed invocations (%)",
                    "ReturnData": True,
                },
            ],
            comparison="GreaterThanThreshold", threshold=agent.alarm_error_rate_pct,
            evaluation_periods=1, datapoints_to_alarm=1,
        ),
        _alarm(
            f"{base}/throttles", node, name(agent.name, "throttles", kind="cloudwatch_alarm"),
            f"Lambda refused invocations of agent {agent.name} (concurrency limit reached)",
            metric=_lambda_metric(function, "Throttles", "Sum"),
            comparison="GreaterThanThreshold", threshold=0,
            evaluation_periods=1, datapoints_to_alarm=1,
        ),
        _alarm(
            f"{base}/slow", node, name(agent.name, "slow", kind="cloudwatch_alarm"),
            f"The slowest 5% of invocations of agent {agent.name} took more than "
            f"{agent.alarm_p95_near_timeout_pct}% of its {agent.timeout_s} s timeout",
            metric=_lambda_metric(function, "Duration", "p95"),
            comparison="GreaterThanThreshold", threshold=slow_ms,
            # Two slow windows out of three: one slow answer is not yet a trend.
            evaluation_periods=3, datapoints_to_alarm=2,
        ),
    ]  # fmt: skip
    if agent.alarm_tokens_per_day and not agent.code:
        dims = {"Project": bp.project, "Stage": bp.stage, "Agent": agent.name}
        found.append(
            _alarm(
                f"{base}/tokens", node, name(agent.name, "tokens", kind="cloudwatch_alarm"),
                f"Agent {agent.name} used more than {agent.alarm_tokens_per_day} model tokens "
                "in a day",
                metrics=[
                    _stat("input", METRICS_NAMESPACE, "InputTokens", dims, DAY),
                    _stat("output", METRICS_NAMESPACE, "OutputTokens", dims, DAY),
                    {"Id": "tokens", "Expression": "input + output", "Label": "Tokens",
                     "ReturnData": True},
                ],
                comparison="GreaterThanThreshold", threshold=agent.alarm_tokens_per_day,
                evaluation_periods=1, datapoints_to_alarm=1,
            )
        )  # fmt: skip
    return found


def _dead_letter_alarm(queue_key: str, dlq_name: str, name: Namer) -> ResourceSpec:
    queue = L.node_name(queue_key)
    return _alarm(
        f"queue/{queue}/alarm/dead-letters", queue_key,
        name(queue, "dead-letters", kind="cloudwatch_alarm"),
        f"Messages of queue {queue} failed every retry and wait in its dead-letter queue",
        metric={
            "namespace": "AWS/SQS",
            "metric_name": "ApproximateNumberOfMessagesVisible",
            "dimensions": {"QueueName": dlq_name},
            "statistic": "Maximum",
            "period_s": FIVE_MINUTES,
        },
        comparison="GreaterThanThreshold", threshold=0,
        evaluation_periods=1, datapoints_to_alarm=1,
    )  # fmt: skip
