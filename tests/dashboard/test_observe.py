"""Watching a deployed agent: its log lines, charts, token cost and alarm states.

The stage is on the sandbox; the function and alarm are recorded as a deploy would record
them, and CloudWatch (moto) holds the lines, metrics and states the pages read back.
"""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from dashboard.access.models import Membership
from dashboard.asgi import application
from dashboard.notifications import dispatch as notification_dispatch
from dashboard.notifications import services as notification_services
from dashboard.observe import alarm_watch
from dashboard.projects import services as project_services
from dashboard.projects.models import Project, Stage
from dashboard.runs.models import DeployedResource

pytestmark = pytest.mark.django_db(transaction=True)

FUNCTION = "acme-dev-support"
GROUP = f"/aws/lambda/{FUNCTION}"
ALARM = "acme-dev-support-errors"
REQUEST = "5d0c3d4e-7a1b-4c2d-8e9f-0a1b2c3d4e5f"


def client_for(sandbox: str, service: str) -> Any:
    return boto3.client(
        service, region_name="us-east-1", endpoint_url=sandbox,
        aws_access_key_id="sandbox", aws_secret_access_key="sandbox-secret",
    )  # fmt: skip


def put_lines(sandbox: str, lines: list[str], stream: str = "2026/12/02/[$LATEST]abc") -> None:
    logs = client_for(sandbox, "logs")
    existing = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    if stream not in {s["logStreamName"] for s in existing}:
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now + i, "message": line} for i, line in enumerate(lines)]
    logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=events)


@pytest.fixture
def watched(acme: Project, alice: Any, sandbox: str) -> Stage:
    """acme's agent "support" as deployed to dev: its function, log group and one alarm."""
    cache.clear()
    agent = project_services.agent_create(
        project=acme, user=alice,
        data={"name": "support", "model_id": "global.anthropic.claude-sonnet-4-6"},
    )  # fmt: skip
    stage = acme.stages.get()
    DeployedResource.objects.create(
        stage=stage, logical_id="agent/support/function", type="lambda:function",
        physical_id=FUNCTION, node=agent.key, properties={"name": FUNCTION},
    )  # fmt: skip
    DeployedResource.objects.create(
        stage=stage, logical_id="agent/support/alarm/error-rate", type="cloudwatch:alarm",
        physical_id=ALARM, node=agent.key, properties={"name": ALARM},
    )  # fmt: skip
    client_for(sandbox, "logs").create_log_group(logGroupName=GROUP)
    cloudwatch = client_for(sandbox, "cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM, MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="2 errors")
    put_lines(sandbox, [
        f"START RequestId: {REQUEST} Version: $LATEST",
        "looking up the order",
        f"[ERROR]\t2026-12-02T10:00:00.000Z\t{REQUEST}\tKeyError: 'order_id'",
        f"END RequestId: {REQUEST}",
    ])  # fmt: skip
    return stage


def test_a_viewer_reads_the_agents_lines_with_their_request_ids(
    watched: Stage, acme: Project, bob: Any
) -> None:
    Membership.objects.create(project=acme, user=bob, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(bob)

    page = client.get("/projects/acme/stages/dev/agents/support/logs/").content.decode()

    assert "looking up the order" in page
    assert "KeyError: &#x27;order_id&#x27;" in page
    # The printed line carries its request's id, as a link that filters to that request
    assert f'href="?filter={REQUEST}&amp;range=1h"' in page
    assert page.count('class="request-id"') == 4
    # And the alarm's state is on the page
    assert 'data-alarm="acme-dev-support-errors" data-state="ALARM"' in page


def test_text_and_level_filters_narrow_the_lines(watched: Stage, alice: Any) -> None:
    client = Client()
    client.force_login(alice)

    errors = client.get(
        "/projects/acme/stages/dev/agents/support/logs/", {"level": "ERROR", "range": "15m"}
    ).content.decode()
    assert "KeyError" in errors and "looking up the order" not in errors

    by_text = client.get(
        "/projects/acme/stages/dev/agents/support/logs/",
        {"filter": "looking up", "range": "24h"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert by_text.startswith('\n  <div id="log-lines"') or 'id="log-lines"' in by_text[:200]
    assert "looking up the order" in by_text and "KeyError" not in by_text


def test_a_bad_custom_range_says_why_and_shows_the_last_hour(watched: Stage, alice: Any) -> None:
    client = Client()
    client.force_login(alice)
    page = client.get(
        "/projects/acme/stages/dev/agents/support/logs/",
        {"range": "custom", "start": "2026-12-02T10:00", "end": "2026-12-01T10:00"},
    ).content.decode()
    assert "the range must start before it ends" in page
    assert "looking up the order" in page


def test_the_charts_show_the_numbers_put_and_the_model_cost(
    watched: Stage, alice: Any, sandbox: str
) -> None:
    # Given two invocations a few minutes apart and the tokens of an answer
    cloudwatch = client_for(sandbox, "cloudwatch")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    function = [{"Name": "FunctionName", "Value": FUNCTION}]
    for minutes, count in ((5, 3), (2, 4)):
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[
            {"MetricName": "Invocations", "Dimensions": function, "Value": count,
             "Timestamp": now - timedelta(minutes=minutes, seconds=-5)},
        ])  # fmt: skip
    agent = [{"Name": "Project", "Value": "acme"}, {"Name": "Stage", "Value": "dev"},
             {"Name": "Agent", "Value": "support"}]  # fmt: skip
    cloudwatch.put_metric_data(Namespace="StrandsDeploy", MetricData=[
        {"MetricName": "InputTokens", "Dimensions": agent, "Value": 200_000},
        {"MetricName": "OutputTokens", "Dimensions": agent, "Value": 10_000},
    ])  # fmt: skip
    client = Client()
    client.force_login(alice)

    page = client.get(
        "/projects/acme/stages/dev/agents/support/metrics/", {"range": "15m"}
    ).content.decode()

    # Then the invocations chart draws 3 then 4, and its legend adds them up
    assert 'data-series="invocations" data-values="3,4"' in page
    assert "Invocations:\n      <strong>7</strong> in all" in page
    assert 'data-series="input_tokens" data-values="200000"' in page
    # And the model cost: 0.2 M input x $3 + 0.01 M output x $15 = $0.75
    assert "<strong data-cost>$0.75</strong>" in page

    summary = client.get("/projects/acme/stages/dev/metrics/", {"range": "1h"}).content.decode()
    assert "<td data-invocations>7</td>" in summary
    assert '<strong id="stage-model-cost">$0.75</strong>' in summary


def test_the_canvas_state_carries_each_agents_alarm_states(watched: Stage, alice: Any) -> None:
    client = Client()
    client.force_login(alice)
    state = client.get("/projects/acme/canvas/state/", {"stage": "dev"}).json()
    support = next(n for n in state["nodes"] if n["key"] == "agent:support")
    assert support["alarms"] == [{"name": ALARM, "state": "ALARM"}]


def test_logs_follow_prints_a_line_put_after_it_started(
    watched: Stage, sandbox: str, settings: Any
) -> None:
    settings.LOG_FOLLOW_POLL_S = 0.2
    out = io.StringIO()
    done = threading.Event()

    def follow() -> None:
        try:
            call_command(
                "logs", "acme", "support", "--follow", "--since", "5m", "--max-seconds", "4",
                stdout=out,
            )  # fmt: skip
        finally:
            done.set()

    worker = threading.Thread(target=follow)
    worker.start()
    deadline = time.monotonic() + 3
    while "looking up the order" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    put_lines(sandbox, ["a line written while following"], stream="2026/12/02/[$LATEST]def")
    worker.join(timeout=10)

    printed = out.getvalue()
    assert done.is_set()
    assert "looking up the order" in printed  # the last 5 minutes first
    assert "ERROR   5d0c3d4e  [ERROR]" in printed  # level and short request id columns
    assert printed.count("a line written while following") == 1


def test_the_follow_socket_pushes_a_new_line(
    watched: Stage, alice: Any, sandbox: str, settings: Any
) -> None:
    settings.LOG_FOLLOW_POLL_S = 0.2
    login = Client()
    login.force_login(alice)
    cookie = f"sessionid={login.cookies['sessionid'].value}".encode()
    after = int(time.time() * 1000)

    async def scenario() -> None:
        socket = WebsocketCommunicator(
            application, f"/ws/logs/acme/dev/support/?after={after}",
            headers=[(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie)],
        )  # fmt: skip
        connected, _ = await socket.connect()
        assert connected
        await put_lines_async(sandbox)
        message = await socket.receive_json_from(timeout=10)
        assert message["type"] == "lines"
        assert [line["message"] for line in message["lines"]] == ["fresh from the agent"]
        await socket.disconnect()

    async_to_sync(scenario)()


async def put_lines_async(sandbox: str) -> None:
    await sync_to_async(put_lines)(sandbox, ["fresh from the agent"], "2026/12/02/[$LATEST]new")


def test_someone_outside_the_project_cannot_follow_its_logs(watched: Stage, bob: Any) -> None:
    login = Client()
    login.force_login(bob)
    cookie = f"sessionid={login.cookies['sessionid'].value}".encode()

    async def scenario() -> None:
        socket = WebsocketCommunicator(
            application, "/ws/logs/acme/dev/support/",
            headers=[(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie)],
        )  # fmt: skip
        await socket.connect()
        closed = await socket.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": 4403}

    async_to_sync(scenario)()


def test_the_alarm_watch_announces_each_state_change_once(
    watched: Stage, alice: Any, sandbox: str, settings: Any
) -> None:
    settings.EMBEDDED = True
    channel = notification_services.channel_create(
        project=watched.project, user=alice, name="ops", kind="email",
        events=["alarm.state_changed"], addresses=["ops@example.com"],
    ).channel  # fmt: skip
    sent: list[str] = []
    original = notification_dispatch.alarm_state_changed

    def remember(**kwargs: Any) -> None:
        sent.append(f"{kwargs['alarm']}={kwargs['state']}")
        original(**kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(notification_dispatch, "alarm_state_changed", remember)
        first = alarm_watch.watch(watched)  # in ALARM at the first look: announced
        again = alarm_watch.watch(watched)  # unchanged: silent
        client_for(sandbox, "cloudwatch").set_alarm_state(
            AlarmName=ALARM, StateValue="OK", StateReason="errors stopped"
        )
        back = alarm_watch.watch(watched)

    assert (first, again, back) == ([ALARM], [], [ALARM])
    assert sent == [f"{ALARM}=ALARM", f"{ALARM}=OK"]
    assert channel.deliveries.count() == 2
