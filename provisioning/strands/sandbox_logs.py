"""What Lambda would have logged and measured for a local run of an agent, in the sandbox.

The sandbox never runs Lambda code, so nothing writes the function's log group or its
metrics. After a local run (try_agent.py) this writes what AWS would: a log stream with
START, the handler's printed lines, END and REPORT; the `StrandsDeploy` metrics of each
embedded-metric-format line (CloudWatch extracts them on AWS; the sandbox does not); and
the function's Invocations, Errors and Duration. The log tab, the `logs` command and the
charts then show a sandbox run like a deployed one. Best effort: a chat answer never fails
because its logs could not be written.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from provisioning.aws import AwsContext

logger = logging.getLogger(__name__)


def lambda_lines(
    request_id: str, output: Sequence[str], duration_ms: int, error: str = ""
) -> list[str]:
    """The lines Lambda's Python runtime writes around a handler's own output."""
    lines = [f"START RequestId: {request_id} Version: $LATEST", *output]
    if error:
        lines.append(f"[ERROR]\t{_now_iso()}\t{request_id}\t{error}")
    lines += [
        f"END RequestId: {request_id}",
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {max(duration_ms, 1)} ms",
    ]
    return lines


def record_run(
    aws: AwsContext,
    function_name: str,
    output: Sequence[str],
    *,
    duration_ms: int,
    error: str = "",
) -> str:
    """Write one local run's lines and numbers; returns its request id ("" if unwritten)."""
    if not aws.target.is_sandbox:
        return ""  # on AWS, Lambda itself writes them
    request_id = str(uuid.uuid4())
    try:
        _write_lines(aws, function_name, lambda_lines(request_id, output, duration_ms, error))
        _put_metrics(aws, function_name, output, duration_ms, failed=bool(error))
    except (ClientError, BotoCoreError) as exc:
        logger.warning("could not record the sandbox run of %s: %s", function_name, exc)
        return ""
    return request_id


def _write_lines(aws: AwsContext, function_name: str, lines: Sequence[str]) -> None:
    client = aws.client("logs")
    group = f"/aws/lambda/{function_name}"
    stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}"
    try:
        client.create_log_stream(logGroupName=group, logStreamName=stream)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        client.create_log_group(logGroupName=group)  # as Lambda does on a first run
        client.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in lines]
    client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def _put_metrics(
    aws: AwsContext, function_name: str, output: Sequence[str], duration_ms: int, *, failed: bool
) -> None:
    client = aws.client("cloudwatch")
    function = [{"Name": "FunctionName", "Value": function_name}]
    client.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {"MetricName": "Invocations", "Dimensions": function, "Value": 1, "Unit": "Count"},
            {"MetricName": "Errors", "Dimensions": function, "Value": int(failed),
             "Unit": "Count"},
            {"MetricName": "Duration", "Dimensions": function, "Value": duration_ms,
             "Unit": "Milliseconds"},
            {"MetricName": "ConcurrentExecutions", "Dimensions": function, "Value": 1,
             "Unit": "Count"},
        ],
    )  # fmt: skip
    for line in output:
        document = embedded_metrics(line)
        if document is not None:
            namespace, data = document
            client.put_metric_data(Namespace=namespace, MetricData=data)


def embedded_metrics(line: str) -> tuple[str, list[dict[str, Any]]] | None:
    """The metric data of one embedded-metric-format line, as PutMetricData takes it."""
    if not line.startswith("{") or '"_aws"' not in line:
        return None
    try:
        document = json.loads(line)
        directive = document["_aws"]["CloudWatchMetrics"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    dimension_names: list[str] = (directive.get("Dimensions") or [[]])[0]
    dimensions = [{"Name": n, "Value": str(document.get(n, ""))} for n in dimension_names]
    data = [
        {
            "MetricName": metric["Name"],
            "Dimensions": dimensions,
            "Value": float(document[metric["Name"]]),
            "Unit": metric.get("Unit", "None"),
        }
        for metric in directive.get("Metrics", [])
        if isinstance(document.get(metric["Name"]), int | float)
    ]
    return (str(directive.get("Namespace", "")), data) if data else None


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def handler_output(stdout: str, stderr: str) -> list[str]:
    """The handler's own lines: the runner's closing outcome line is no log line."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if lines and _is_outcome(lines[-1]):
        lines.pop()
    return lines + [line for line in stderr.splitlines() if line.strip()]


def _is_outcome(line: str) -> bool:
    try:
        data: Mapping[str, Any] = json.loads(line)
    except ValueError:
        return False
    return isinstance(data, dict) and "ok" in data and ("result" in data or "error" in data)
