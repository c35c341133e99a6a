"""CloudWatch alarms on moto: made, changed in place, read back for drift, removed."""

from __future__ import annotations

from typing import Any

import pytest

from provisioning.aws import TAG_LOGICAL_ID, AwsContext
from provisioning.errors import ProvisioningError
from provisioning.provisioners.base import Action
from provisioning.provisioners.cloudwatch import AlarmProvisioner
from provisioning.state import RecordedResource
from tests.provisioning.lifecycle import apply, changed, replan

TOPIC = "arn:aws:sns:us-east-1:123456789012:acme-dev-alarms"


def slow_alarm(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "acme-dev-support-slow",
        "description": "Slow answers of agent support",
        "metric": {
            "namespace": "AWS/Lambda",
            "metric_name": "Duration",
            "dimensions": {"FunctionName": "acme-dev-support"},
            "statistic": "p95",
            "period_s": 300,
        },
        "metrics": None,
        "comparison": "GreaterThanThreshold",
        "threshold": 24000,
        "evaluation_periods": 3,
        "datapoints_to_alarm": 2,
        "treat_missing_data": "notBreaching",
        "alarm_actions": [TOPIC],
        **overrides,
    }


def error_rate_alarm() -> dict[str, Any]:
    def stat(query_id: str, metric: str) -> dict[str, Any]:
        dims = [{"Name": "FunctionName", "Value": "acme-dev-support"}]
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {"Namespace": "AWS/Lambda", "MetricName": metric, "Dimensions": dims},
                "Period": 300,
                "Stat": "Sum",
            },
            "ReturnData": False,
        }

    return slow_alarm(
        name="acme-dev-support-error-rate",
        metric=None,
        metrics=[
            stat("errors", "Errors"),
            stat("invocations", "Invocations"),
            {"Id": "rate", "Expression": "100 * errors / invocations", "ReturnData": True},
        ],
        threshold=5,
        evaluation_periods=1,
        datapoints_to_alarm=1,
    )


@pytest.fixture
def alarm(aws: AwsContext) -> RecordedResource:
    return apply(AlarmProvisioner(aws), "agent/support/alarm/slow", slow_alarm())


def described(aws: AwsContext, name: str = "acme-dev-support-slow") -> list[dict[str, Any]]:
    return list(aws.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"])


def test_an_alarm_is_made_as_specified_tagged_and_then_unchanged(
    aws: AwsContext, alarm: RecordedResource
) -> None:
    (made,) = described(aws)

    assert (made["ExtendedStatistic"], made["Threshold"], made["DatapointsToAlarm"]) == (
        "p95",
        24000.0,
        2,
    )
    assert made["AlarmActions"] == [TOPIC]
    tags = aws.client("cloudwatch").list_tags_for_resource(ResourceARN=alarm.arn)["Tags"]
    assert {"Key": TAG_LOGICAL_ID, "Value": "agent/support/alarm/slow"} in tags
    assert replan(AlarmProvisioner(aws), slow_alarm(), alarm).action is Action.NO_CHANGE


def test_a_metric_math_alarm_reads_back_unchanged(aws: AwsContext) -> None:
    provisioner = AlarmProvisioner(aws)
    recorded = apply(provisioner, "agent/support/alarm/error-rate", error_rate_alarm())

    assert replan(provisioner, error_rate_alarm(), recorded).action is Action.NO_CHANGE
    (made,) = described(aws, "acme-dev-support-error-rate")
    assert [q["Id"] for q in made["Metrics"]] == ["errors", "invocations", "rate"]


def test_a_new_threshold_is_an_update_in_place(aws: AwsContext, alarm: RecordedResource) -> None:
    provisioner = AlarmProvisioner(aws)
    stricter = slow_alarm(threshold=18000)

    change = replan(provisioner, stricter, alarm)
    assert (change.action, changed(change)) == (Action.UPDATE, ["threshold"])

    apply(provisioner, alarm.logical_id, stricter, alarm)
    (updated,) = described(aws)
    assert updated["Threshold"] == 18000.0
    assert updated["AlarmArn"] == alarm.arn


def test_a_threshold_changed_in_the_console_is_drift(
    aws: AwsContext, alarm: RecordedResource
) -> None:
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName="acme-dev-support-slow",
        AlarmDescription="Slow answers of agent support",
        Namespace="AWS/Lambda",
        MetricName="Duration",
        Dimensions=[{"Name": "FunctionName", "Value": "acme-dev-support"}],
        ExtendedStatistic="p95",
        Period=300,
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold=99000,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[],
    )

    change = replan(AlarmProvisioner(aws), slow_alarm(), alarm)

    assert change.action is Action.UPDATE
    assert set(changed(change)) == {"threshold", "alarm_actions"}


def test_a_new_name_replaces_the_alarm(aws: AwsContext, alarm: RecordedResource) -> None:
    change = replan(AlarmProvisioner(aws), slow_alarm(name="acme-dev-support-slower"), alarm)

    assert change.action is Action.REPLACE


def test_destroying_removes_it_and_a_second_destroy_is_done_too(
    aws: AwsContext, alarm: RecordedResource
) -> None:
    provisioner = AlarmProvisioner(aws)

    provisioner.destroy(alarm)
    provisioner.destroy(alarm)

    assert described(aws) == []
    assert provisioner.get_current_state(None, alarm) is None


def test_an_alarm_of_another_owner_is_not_taken_over(aws: AwsContext) -> None:
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName="acme-dev-support-slow",
        Namespace="AWS/Lambda",
        MetricName="Duration",
        Statistic="Average",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "strands-deploy:project", "Value": "someone-else"}],
    )

    provisioner = AlarmProvisioner(aws)
    found = provisioner.get_current_state(slow_alarm(), None)

    assert found is not None
    problem = provisioner.ownership_problem("agent/support/alarm/slow", found)
    assert problem is not None and "strands-deploy:project=someone-else" in problem
    with pytest.raises(ProvisioningError, match="taken by another owner"):
        provisioner.find_unrecorded("agent/support/alarm/slow", slow_alarm())
