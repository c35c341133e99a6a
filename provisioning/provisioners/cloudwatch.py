"""CloudWatch metric alarms. PutMetricAlarm both makes and changes one (an alarm is its
name): a new threshold is an update in place, only a new name a replacement.

cloudwatch:alarm properties:
  name: str, description: str
  metric: {"namespace", "metric_name", "dimensions": {name: value}, "statistic", "period_s"}
          | None   one metric; a statistic "p95" is a percentile (ExtendedStatistic)
  metrics: [MetricDataQuery, in AWS's shape] | None   metric math instead of `metric`
  comparison: "GreaterThanThreshold" | ..., threshold: float,
  evaluation_periods: int, datapoints_to_alarm: int, treat_missing_data: str,
  alarm_actions: [ARN]  (SNS topics)
outputs: physical_id (name), name, arn"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from provisioning.errors import aws_errors, delete_if_present
from provisioning.provisioners.base import (
    Current,
    Provisioner,
    ReadRequest,
    normalise,
    physical_id_of,
    tag_dict,
)
from provisioning.state import RecordedResource

DESCRIBE_LIMIT = 100
"""Alarm names one DescribeAlarms call takes."""


class AlarmProvisioner(Provisioner):
    resource_type = "cloudwatch:alarm"
    noun = "CloudWatch alarm"
    reads_together = True
    replace_on = {"name": "an alarm is known by its name"}

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        return self.read_many([(properties, recorded)])[0]

    def read_many(self, requests: Sequence[ReadRequest]) -> list[Current | None]:
        names = [physical_id_of(properties, recorded) for properties, recorded in requests]
        found: dict[str, Mapping[str, Any]] = {}
        cw = self.aws.client("cloudwatch")
        for start in range(0, len(names), DESCRIBE_LIMIT):
            chunk = sorted(set(names[start : start + DESCRIBE_LIMIT]))
            with aws_errors("reading CloudWatch alarms", ", ".join(chunk)):
                reply = cw.describe_alarms(AlarmNames=chunk, AlarmTypes=["MetricAlarm"])
            found.update({alarm["AlarmName"]: alarm for alarm in reply.get("MetricAlarms", [])})
        return [_current(found[name]) if name in found else None for name in names]

    def owner_tags(self, current: Current) -> Mapping[str, str] | None:
        arn = current.outputs["arn"]
        with aws_errors("reading tags of CloudWatch alarm", current.outputs["name"]):
            reply = self.aws.client("cloudwatch").list_tags_for_resource(ResourceARN=arn)
        return tag_dict(reply.get("Tags") or [])

    def with_defaults(self, properties: Mapping[str, Any]) -> Mapping[str, Any]:
        defaults: dict[str, Any] = {
            "description": "",
            "metric": None,
            "metrics": None,
            "datapoints_to_alarm": properties.get("evaluation_periods"),
            "treat_missing_data": "missing",
            "alarm_actions": [],
        }
        return {**defaults, **properties}

    def canonical(self, name: str, value: Any) -> Any:
        if name == "threshold" and value is not None:
            return float(value)
        if name == "alarm_actions":
            return sorted(value or [])
        if name == "metrics":
            return _canonical_queries(value)
        return super().canonical(name, value)

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # PutMetricAlarm is idempotent by name: a retry after a lost reply changes nothing.
        self.aws.client("cloudwatch").put_metric_alarm(
            **_put_args(properties), Tags=self.aws.tag_list(logical_id)
        )
        return self._outputs(properties["name"])

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        cw = self.aws.client("cloudwatch")
        cw.put_metric_alarm(**_put_args(properties))
        outputs = self._outputs(properties["name"])
        cw.tag_resource(ResourceARN=outputs["arn"], Tags=self.aws.tag_list(logical_id))
        return outputs

    def _outputs(self, name: str) -> dict[str, Any]:
        aws = self.aws
        arn = f"arn:{aws.partition}:cloudwatch:{aws.region}:{aws.account_id}:alarm:{name}"
        return {"physical_id": name, "name": name, "arn": arn}

    def destroy(self, recorded: RecordedResource) -> None:
        with aws_errors("deleting CloudWatch alarm", recorded.physical_id):
            delete_if_present(
                self.aws.client("cloudwatch").delete_alarms,
                "ResourceNotFound",
                AlarmNames=[recorded.physical_id],
            )


def _put_args(properties: Mapping[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {
        "AlarmName": properties["name"],
        "AlarmDescription": properties.get("description") or "",
        "ComparisonOperator": properties["comparison"],
        "Threshold": float(properties["threshold"]),
        "EvaluationPeriods": int(properties["evaluation_periods"]),
        "DatapointsToAlarm": int(
            properties.get("datapoints_to_alarm") or properties["evaluation_periods"]
        ),
        "TreatMissingData": properties.get("treat_missing_data") or "missing",
        "AlarmActions": list(properties.get("alarm_actions") or []),
        "ActionsEnabled": True,
    }
    metric = properties.get("metric")
    if metric:
        args.update(
            Namespace=metric["namespace"],
            MetricName=metric["metric_name"],
            Dimensions=[{"Name": k, "Value": v} for k, v in sorted(metric["dimensions"].items())],
            Period=int(metric["period_s"]),
        )
        statistic = str(metric["statistic"])
        if statistic.startswith("p"):
            args["ExtendedStatistic"] = statistic
        else:
            args["Statistic"] = statistic
    else:
        args["Metrics"] = list(properties["metrics"])
    return args


def _current(alarm: Mapping[str, Any]) -> Current:
    metric = None
    if alarm.get("MetricName"):
        metric = {
            "namespace": alarm.get("Namespace"),
            "metric_name": alarm["MetricName"],
            "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions") or []},
            "statistic": alarm.get("ExtendedStatistic") or alarm.get("Statistic"),
            "period_s": alarm.get("Period"),
        }
    props = {
        "name": alarm["AlarmName"],
        "description": alarm.get("AlarmDescription") or "",
        "metric": metric,
        "metrics": list(alarm.get("Metrics") or []) or None,
        "comparison": alarm.get("ComparisonOperator"),
        "threshold": alarm.get("Threshold"),
        "evaluation_periods": alarm.get("EvaluationPeriods"),
        "datapoints_to_alarm": alarm.get("DatapointsToAlarm") or alarm.get("EvaluationPeriods"),
        "treat_missing_data": alarm.get("TreatMissingData") or "missing",
        "alarm_actions": list(alarm.get("AlarmActions") or []),
    }
    name = alarm["AlarmName"]
    return Current(props, {"physical_id": name, "name": name, "arn": alarm["AlarmArn"]})


def _canonical_queries(queries: Any) -> Any:
    """Metric math as compared: AWS leaves out what it assumes (ReturnData true, no label)."""
    if not queries:
        return None
    shaped = []
    for query in queries:
        item = {k: v for k, v in query.items() if v not in (None, "")}
        item.setdefault("ReturnData", True)
        shaped.append(item)
    return normalise(shaped)


PROVISIONERS: tuple[type[Provisioner], ...] = (AlarmProvisioner,)
