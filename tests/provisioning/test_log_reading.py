"""Reading an agent's log lines back from CloudWatch Logs (moto): filters, levels, ids."""

from __future__ import annotations

import time

import pytest

from provisioning import engine
from provisioning.aws import AwsContext

GROUP = "/aws/lambda/acme-dev-support"
FIRST = "0b8f5a8e-1111-4c1e-9a4e-3f1c2d6b7a01"
SECOND = "0b8f5a8e-2222-4c1e-9a4e-3f1c2d6b7a02"


def _put(aws: AwsContext, stream: str, lines: list[str], at_ms: int) -> None:
    logs = aws.client("logs")
    logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    events = [{"timestamp": at_ms + i, "message": line} for i, line in enumerate(lines)]
    logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=events)


@pytest.fixture
def two_requests(aws: AwsContext) -> int:
    """Two invocations in two streams: one answers, one fails."""
    aws.client("logs").create_log_group(logGroupName=GROUP)
    now = int(time.time() * 1000) - 60_000
    _put(aws, "2026/12/02/[$LATEST]aaa", [
        f"START RequestId: {FIRST} Version: $LATEST",
        '{"_aws": {}, "InputTokens": 12}',
        f"[INFO]\t2026-12-02T10:00:00.000Z\t{FIRST}\tanswered the weather question",
        f"END RequestId: {FIRST}",
        f"REPORT RequestId: {FIRST}\tDuration: 812.00 ms\tBilled Duration: 813 ms",
    ], now)  # fmt: skip
    _put(aws, "2026/12/02/[$LATEST]bbb", [
        f"START RequestId: {SECOND} Version: $LATEST",
        "printed by the agent's own tool",
        f"[ERROR]\t2026-12-02T10:00:01.000Z\t{SECOND}\tKeyError: 'city'",
        f"END RequestId: {SECOND}",
    ], now + 1000)  # fmt: skip
    return now - 1000


def test_lines_come_back_oldest_first_with_their_request_id_and_level(
    aws: AwsContext, two_requests: int
) -> None:
    page = engine.read_logs(aws, GROUP, start=two_requests)

    assert [line.message.split("\t")[0][:5] for line in page.lines][:2] == ["START", '{"_aw']
    assert len(page.lines) == 9
    by_text = {line.message: line for line in page.lines}
    # A printed line carries no id: it takes the id of the request running in its stream
    assert by_text["printed by the agent's own tool"].request_id == SECOND
    assert by_text['{"_aws": {}, "InputTokens": 12}'].request_id == FIRST
    assert by_text[f"END RequestId: {FIRST}"].request_id == FIRST
    errors = [line for line in page.lines if line.level == "ERROR"]
    assert [e.request_id for e in errors] == [SECOND]
    assert page.next_token is None and not page.missing


def test_a_text_filter_and_a_level_filter_narrow_the_lines(
    aws: AwsContext, two_requests: int
) -> None:
    weather = engine.read_logs(aws, GROUP, start=two_requests, filter_text="weather question")
    assert [line.message for line in weather.lines] == [
        f"[INFO]\t2026-12-02T10:00:00.000Z\t{FIRST}\tanswered the weather question"
    ]
    assert weather.lines[0].request_id == FIRST

    # Filtering by a request id finds its framing lines and the runtime's log lines
    second = engine.read_logs(aws, GROUP, start=two_requests, filter_text=SECOND)
    assert {line.request_id for line in second.lines} == {SECOND}
    assert len(second.lines) == 3

    errors = engine.read_logs(aws, GROUP, start=two_requests, level="error")
    assert [line.message.rsplit("\t", 1)[-1] for line in errors.lines] == ["KeyError: 'city'"]


def test_the_newest_lines_are_kept_and_paging_goes_on_from_a_token(
    aws: AwsContext, two_requests: int
) -> None:
    newest = engine.read_logs(aws, GROUP, start=two_requests, limit=2)
    assert [line.message for line in newest.lines] == [
        f"[ERROR]\t2026-12-02T10:00:01.000Z\t{SECOND}\tKeyError: 'city'",
        f"END RequestId: {SECOND}",
    ]

    first = engine.read_logs(aws, GROUP, start=two_requests, limit=3, newest=False)
    assert len(first.lines) == 3 and first.next_token
    rest = engine.read_logs(
        aws, GROUP, start=two_requests, limit=50, newest=False, next_token=first.next_token
    )
    assert len(rest.lines) == 6
    assert rest.lines[0].message == f"END RequestId: {FIRST}"  # right after the first page


def test_a_function_that_never_ran_has_no_group_and_that_is_no_error(aws: AwsContext) -> None:
    page = engine.read_logs(aws, "/aws/lambda/never-ran", start=0)
    assert page.missing and page.lines == []
