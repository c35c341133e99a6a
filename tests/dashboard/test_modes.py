"""The two ways the dashboard runs work.

Embedded (no REDIS_URL): worker threads inside the web process, started by the ASGI app.
Services (REDIS_URL): `manage.py rundramatiq` worker processes; the CLI queues and follows.
"""

from __future__ import annotations

import time
from io import StringIO
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client

from dashboard.asgi import application
from dashboard.projects.models import Project
from dashboard.runs import actors, live, queue
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until_ended(deployment: Deployment, timeout_s: float = 60) -> Deployment:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        deployment.refresh_from_db()
        if not deployment.is_active:
            return deployment
        time.sleep(0.2)
    raise AssertionError(f"#{deployment.pk} still {deployment.status} after {timeout_s} s")


@pytest.mark.skipif(not django_settings.EMBEDDED, reason="embedded mode only (REDIS_URL unset)")
def test_embedded_the_web_process_runs_queued_work_in_its_own_threads(
    acme: Project, alice: Any, sandbox: str, settings: Any
) -> None:
    settings.EMBEDDED_WORKER_THREADS = 2
    queued_before_boot = run_services.deployment_start(
        stage=acme.stages.get(), kind="plan", user=alice
    )
    application.started = False
    try:
        async_to_sync(HttpCommunicator(application, "GET", "/no-such-page/").get_response)()
        assert actors._worker is not None
        queued_after_boot = run_services.deployment_start(
            stage=acme.stages.get(), kind="plan", user=alice
        )

        assert wait_until_ended(queued_before_boot).status == "SUCCEEDED"
        assert wait_until_ended(queued_after_boot).status == "SUCCEEDED"
    finally:
        actors.stop_embedded_worker()


@pytest.mark.skipif(not django_settings.EMBEDDED, reason="embedded mode only (REDIS_URL unset)")
def test_embedded_worker_threads_stream_live_to_a_socket_on_the_servers_loop(
    acme: Project, alice: Any, sandbox: str, settings: Any
) -> None:
    settings.EMBEDDED_WORKER_THREADS = 1
    deployment = run_services.deployment_start(
        stage=acme.stages.get(), kind="plan", user=alice, enqueue=False
    )
    client = Client()
    client.force_login(alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def scenario() -> list[dict[str, Any]]:
        socket = WebsocketCommunicator(
            application,
            f"/ws/deployments/{deployment.pk}/",
            headers=[(b"origin", b"http://localhost"), (b"cookie", cookie)],
        )
        assert (await socket.connect())[0]
        await database_sync_to_async(queue.enqueue)(deployment)
        messages = [await socket.receive_json_from(timeout=30)]
        while messages[-1].get("type") != "deployment":
            messages.append(await socket.receive_json_from(timeout=30))
        await socket.disconnect()
        return messages

    application.started = False
    try:
        messages = async_to_sync(scenario)()
    finally:
        actors.stop_embedded_worker()

    assert [m.get("status") for m in messages] == ["started", "succeeded", "SUCCEEDED"]


@pytest.mark.worker
def test_services_a_worker_process_runs_a_deploy_the_cli_follows(
    dramatiq_worker: Any, sandbox: str
) -> None:
    assert not django_settings.EMBEDDED
    call_command("loaddemo", "--i-know", stdout=StringIO())

    out = StringIO()
    call_command("deploy", "demo", "--wait", stdout=out)

    deployment = Deployment.objects.get(kind="deploy")
    assert deployment.status == "SUCCEEDED" and deployment.counts["failed"] == 0
    total = deployment.counts["total"]
    assert f"[{total}/{total}] " in out.getvalue()


@pytest.mark.worker
def test_services_the_worker_sends_each_event_live_then_the_end(
    dramatiq_worker: Any, sandbox: str, alice: Any, acme: Project
) -> None:
    deployment = run_services.deployment_start(
        stage=acme.stages.get(), kind="plan", user=alice, enqueue=False
    )
    heard = listen(live.group_name(deployment.pk))

    queue.enqueue(deployment)

    assert wait_until_ended(deployment).status == "SUCCEEDED"
    messages = heard()
    assert [m["type"] for m in messages] == [
        "deployment.event",
        "deployment.event",
        "deployment.finished",
    ]
    assert [m["event"]["status"] for m in messages[:2]] == ["started", "succeeded"]
    assert messages[-1]["final"]["status"] == "SUCCEEDED"


@pytest.mark.worker
def test_services_deploy_without_wait_only_queues_and_a_worker_finishes_it(
    dramatiq_worker: Any, sandbox: str
) -> None:
    call_command("loaddemo", "--i-know", stdout=StringIO())

    out = StringIO()
    call_command("deploy", "demo", stdout=out)

    assert "queued" in out.getvalue()
    assert wait_until_ended(Deployment.objects.get(kind="deploy")).status == "SUCCEEDED"


def listen(group: str) -> Any:
    """Join `group` on the channel layer now; the returned function drains what arrived."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)

    def drain() -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []

        async def receive_all() -> None:
            import asyncio

            while True:
                try:
                    messages.append(await asyncio.wait_for(layer.receive(channel), timeout=1))
                except TimeoutError:
                    return

        async_to_sync(receive_all)()
        return messages

    return drain
