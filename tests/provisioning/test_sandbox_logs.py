"""A local sandbox run leaves the lines and numbers Lambda would have left on AWS."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from provisioning import engine, sandbox
from provisioning.aws import AwsContext, Target
from provisioning.strands import sandbox_logs

EMF = (
    '{"_aws":{"Timestamp":0,"CloudWatchMetrics":[{"Namespace":"StrandsDeploy",'
    '"Dimensions":[["Project","Stage","Agent"]],"Metrics":[{"Name":"OutputTokens",'
    '"Unit":"Count"}]}]},"Project":"acme","Stage":"dev","Agent":"support","OutputTokens":42}'
)


def test_a_local_run_writes_framed_lines_and_metrics_to_the_sandbox(upstream: str) -> None:
    sandbox.reset(upstream)
    aws = AwsContext(Target(endpoint_url=upstream), project="acme", stage="dev")
    started = int(time.time() * 1000) - 1000

    # When a run printed a line and a metrics line, and its runner's outcome closed stdout
    output = sandbox_logs.handler_output(
        f'looking up the weather\n{EMF}\n{{"ok": true, "result": "sunny"}}\n', ""
    )
    request_id = sandbox_logs.record_run(aws, "acme-dev-support", output, duration_ms=812)

    # Then the function's group holds START, the lines, END and REPORT, all of that request
    page = engine.read_logs(aws, engine.log_group_of("acme-dev-support"), start=started)
    messages = [line.message for line in page.lines]
    assert messages[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert messages[1:3] == ["looking up the weather", EMF]
    assert messages[3] == f"END RequestId: {request_id}"
    assert messages[4].startswith(f"REPORT RequestId: {request_id}\tDuration: 812.00 ms")
    assert {line.request_id for line in page.lines} == {request_id}
    # And the numbers the charts read: one invocation, no error, the tokens of the EMF line
    now = datetime.now(UTC)
    series = engine.read_metrics(
        aws, "acme-dev-support", "acme", "dev", "support",
        start=now - timedelta(minutes=5), end=now + timedelta(minutes=1), period=60,
    )  # fmt: skip
    assert series["invocations"].total == 1.0
    assert series["errors"].total == 0.0
    assert series["output_tokens"].total == 42.0


def test_a_failed_run_logs_its_error_line(upstream: str) -> None:
    sandbox.reset(upstream)
    aws = AwsContext(Target(endpoint_url=upstream), project="acme", stage="dev")
    started = int(time.time() * 1000) - 1000

    sandbox_logs.record_run(aws, "acme-dev-broken", [], duration_ms=5, error="KeyError: 'x'")

    errors = engine.read_logs(
        aws, engine.log_group_of("acme-dev-broken"), start=started, level="ERROR"
    )
    assert [line.message.rsplit("\t", 1)[-1] for line in errors.lines] == ["KeyError: 'x'"]


def test_on_aws_nothing_is_written_lambda_does_it(aws: AwsContext) -> None:
    assert sandbox_logs.record_run(aws, "acme-dev-support", ["hi"], duration_ms=1) == ""
