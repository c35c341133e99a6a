"""The live log websocket, through the real ASGI app: session auth, replay, then live."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from dashboard.asgi import application
from dashboard.projects.models import Project
from dashboard.runs import lifecycle
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment
from dashboard.runs.progress import DbProgressSink
from provisioning.events import Event, EventStatus

pytestmark = pytest.mark.django_db(transaction=True)


def run_async(test: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(test)()


def session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def connect(deployment_id: int, cookie: bytes | None, after: int = 0) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(
        application, f"/ws/deployments/{deployment_id}/?after={after}", headers=headers
    )


def resource_event(n: int) -> Event:
    return Event(f"agent/a{n}/function", "lambda:function", "CREATE", EventStatus.SUCCEEDED, "", n)


@pytest.fixture
def running(acme: Project, alice: Any) -> Deployment:
    deployment = run_services.deployment_start(
        stage=acme.stages.get(), kind="deploy", user=alice, enqueue=False
    )
    Deployment.objects.filter(pk=deployment.pk).update(status="RUNNING")
    deployment.refresh_from_db()
    return deployment


def test_replays_after_seq_then_streams_live_without_repeats(
    running: Deployment, alice: Any
) -> None:
    sink = DbProgressSink(running)
    for n in (1, 2, 3):
        sink.emit(resource_event(n))
    cookie = session_cookie(alice)

    async def scenario() -> None:
        socket = connect(running.pk, cookie, after=1)
        connected, _ = await socket.connect()
        assert connected
        replayed = [await socket.receive_json_from(timeout=5) for _ in range(2)]
        await database_sync_to_async(sink.emit)(resource_event(4))
        live = await socket.receive_json_from(timeout=5)
        await socket.send_json_to({"ignored": True})
        assert await socket.receive_nothing(timeout=0.3)

        assert [e["seq"] for e in replayed] == [2, 3]
        assert replayed[0]["resource"] == "agent/a2/function" and replayed[0]["elapsed_ms"] == 2
        assert live["seq"] == 4 and live["deployment"] == running.pk
        await socket.disconnect()

    run_async(scenario)


def test_a_live_event_racing_the_replay_is_sent_once(running: Deployment, alice: Any) -> None:
    sink = DbProgressSink(running)
    sink.emit(resource_event(1))
    row = DbProgressSink(running).record(status="info", message="raced", publish=False)
    cookie = session_cookie(alice)

    async def scenario() -> None:
        socket = connect(running.pk, cookie)
        assert (await socket.connect())[0]
        first = [await socket.receive_json_from(timeout=5) for _ in range(2)]
        await database_sync_to_async(sink.publish)(row)  # the same row, arriving live late
        assert [e["seq"] for e in first] == [1, 2]
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()

    run_async(scenario)


def test_the_end_of_a_run_is_announced_once_after_its_last_event(
    running: Deployment, alice: Any
) -> None:
    cookie = session_cookie(alice)

    async def scenario() -> None:
        socket = connect(running.pk, cookie)
        assert (await socket.connect())[0]
        outcome = lifecycle.Outcome("SUCCEEDED", counts={"succeeded": 3, "total": 3})
        await database_sync_to_async(lifecycle.finish)(running, outcome)
        event = await socket.receive_json_from(timeout=5)
        final = await socket.receive_json_from(timeout=5)
        assert (event["resource"], event["status"]) == (None, "succeeded")
        assert final["type"] == "deployment" and "seq" not in final
        assert (final["status"], final["counts"], final["last_seq"]) == (
            "SUCCEEDED",
            outcome.counts,
            1,
        )
        await socket.disconnect()

        late = connect(running.pk, cookie)
        assert (await late.connect())[0]
        replay = await late.receive_json_from(timeout=5)
        again = await late.receive_json_from(timeout=5)
        assert replay["seq"] == 1 and again["status"] == "SUCCEEDED"
        assert await late.receive_nothing(timeout=0.3)
        await late.disconnect()

    run_async(scenario)


@pytest.mark.parametrize("who", ["stranger", "anonymous"])
def test_someone_who_may_not_see_the_run_is_closed_with_4403(
    running: Deployment, bob: Any, who: str
) -> None:
    DbProgressSink(running).emit(resource_event(1))
    cookie = session_cookie(bob) if who == "stranger" else None

    async def scenario() -> None:
        socket = connect(running.pk, cookie)
        await socket.connect()
        closed = await socket.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": 4403}

    run_async(scenario)


def test_an_unknown_origin_is_refused(running: Deployment, alice: Any) -> None:
    async def scenario() -> None:
        socket = WebsocketCommunicator(
            application,
            f"/ws/deployments/{running.pk}/",
            headers=[(b"origin", b"http://evil.example"), (b"cookie", session_cookie_bytes)],
        )
        connected, _ = await socket.connect()
        assert not connected

    session_cookie_bytes = session_cookie(alice)
    run_async(scenario)
