"""An agent's numbers and alarm states read back from CloudWatch (moto)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from provisioning import engine
from provisioning.aws import AwsContext
from provisioning.strands.sandbox_logs import embedded_metrics

FUNCTION = "acme-dev-support"


def _minute_ago(n: int) -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=n)


def test_lambda_metrics_and_token_counts_come_back_per_period(aws: AwsContext) -> None:
    # Given two invocations five minutes apart, one failed, and the agent's token counts
    cloudwatch = aws.client("cloudwatch")
    function = [{"Name": "FunctionName", "Value": FUNCTION}]
    for minutes, failed in ((6, 0), (1, 1)):
        at = _minute_ago(minutes) + timedelta(seconds=10)
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[
            {"MetricName": "Invocations", "Dimensions": function, "Value": 1, "Timestamp": at},
            {"MetricName": "Errors", "Dimensions": function, "Value": failed, "Timestamp": at},
        ])  # fmt: skip
    line = (
        '{"_aws":{"Timestamp":0,"CloudWatchMetrics":[{"Namespace":"StrandsDeploy",'
        '"Dimensions":[["Project","Stage","Agent"]],"Metrics":[{"Name":"InputTokens",'
        '"Unit":"Count"},{"Name":"OutputTokens","Unit":"Count"}]}]},"Project":"acme",'
        '"Stage":"dev","Agent":"support","InputTokens":1200,"OutputTokens":340}'
    )
    namespace, data = embedded_metrics(line) or ("", [])
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=data)

    # When the agent's metrics of the last 15 minutes are read per minute
    series = engine.read_metrics(
        aws, FUNCTION, "acme", "dev", "support",
        start=_minute_ago(15), end=_minute_ago(-1), period=60,
    )  # fmt: skip

    # Then each series has the numbers put, in time order, and none of another agent's
    assert [v for _, v in series["invocations"].points] == [1.0, 1.0]
    assert series["invocations"].points[0][0] < series["invocations"].points[1][0]
    assert series["errors"].total == 1.0
    assert series["input_tokens"].total == 1200.0
    assert series["output_tokens"].total == 340.0
    assert series["throttles"].points == []
    assert set(series) == {q.key for q in engine.QUERIES}
    other = engine.read_metrics(
        aws, FUNCTION, "acme", "dev", "billing", start=_minute_ago(15), end=_minute_ago(-1)
    )
    assert other["input_tokens"].points == []


def test_alarm_states_are_read_by_name_and_an_unknown_one_is_missing(aws: AwsContext) -> None:
    cloudwatch = aws.client("cloudwatch")
    for name in ("acme-dev-support-errors", "acme-dev-support-throttles"):
        cloudwatch.put_metric_alarm(
            AlarmName=name, MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold",
        )  # fmt: skip
    cloudwatch.set_alarm_state(
        AlarmName="acme-dev-support-errors", StateValue="ALARM", StateReason="3 errors"
    )

    states = engine.alarm_states(
        aws, ["acme-dev-support-errors", "acme-dev-support-throttles", "gone"]
    )

    assert states["acme-dev-support-errors"].state == "ALARM"
    assert states["acme-dev-support-errors"].reason == "3 errors"
    assert states["acme-dev-support-throttles"].state == "OK"  # moto starts alarms at OK
    assert states["gone"].state == "MISSING"


@pytest.mark.parametrize(
    ("model_id", "expected", "priced_as"),
    [
        ("global.anthropic.claude-sonnet-4-6", 3.0 + 15.0, "anthropic.claude-sonnet-4"),
        ("us.amazon.nova-lite-v1:0", 0.06 + 0.24, "amazon.nova-lite"),
    ],
)
def test_the_token_cost_uses_the_models_price(
    model_id: str, expected: float, priced_as: str
) -> None:
    cost = engine.token_cost(model_id, 1_000_000, 1_000_000)
    assert cost is not None and cost.priced_as == priced_as
    assert cost.amount == pytest.approx(expected)


def test_a_model_without_a_price_has_no_cost() -> None:
    assert engine.token_cost("my-own-finetune", 10, 10) is None
