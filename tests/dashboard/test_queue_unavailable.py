"""Deploy clicked while the task queue is down: a 503 that says so, a failed run, a free stage.

The process's broker is a real `RedisBroker` on a port nobody listens on, so
sending a run's message fails as it does when Redis is down (`redis.ConnectionError`).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from dramatiq.brokers.redis import RedisBroker

from dashboard.projects.models import Project
from dashboard.runs import queue
from dashboard.runs import selectors as run_selectors
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment
from tests.dashboard.view_fixtures import (  # noqa: F401 (fixtures)
    owner_client_fixture,
    owner_fixture,
    project_fixture,
)

pytestmark = pytest.mark.django_db(transaction=True)
QUEUE_DOWN = "the task queue is unavailable"


@pytest.fixture
def queue_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Redis is down for the run actors until the test calls `.undo()` on what it gets."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    down = RedisBroker(url=f"redis://127.0.0.1:{port}/0")
    working = dramatiq.get_broker()
    monkeypatch.setattr("dramatiq.broker.global_broker", down)  # runs are sent by actor name
    yield monkeypatch
    working.flush(
        queue.QUEUE
    )  # what reached the test's StubBroker afterwards  # what reached the test's StubBroker afterwards


def the_only_run(project: Project) -> Deployment:
    run = Deployment.objects.get(stage__project=project)
    return run


def assert_failed_for_the_queue(run: Deployment) -> None:
    assert run.status == "FAILED" and run.error.startswith(f"{QUEUE_DOWN}: "), run.error
    assert "connecting to 127.0.0.1" in run.error  # what the broker said, for the operator
    final = run_selectors.deployment_events(deployment=run)[-1]
    assert final["resource"] is None and final["status"] == "failed"
    assert QUEUE_DOWN in final["message"]


def test_deploy_clicked_while_the_queue_is_down_answers_503_and_frees_the_stage(
    owner_client: Client, project: Project, queue_down: pytest.MonkeyPatch
) -> None:
    # Given Redis is down, when the owner clicks Deploy
    deploy_url = reverse("stage_deploy", args=["acme", "dev"])
    response = owner_client.post(deploy_url)

    # then the page says the queue is unavailable, with a 503 and when to come back
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "The task queue is unavailable" in body
    run = the_only_run(project)
    assert reverse("deployment_detail", args=[run.pk]) in body
    # and the run is not left QUEUED holding the stage: it failed, saying why
    assert_failed_for_the_queue(run)
    stage = project.stages.get()
    assert run_selectors.deployment_active(stage=stage) is None

    # A second click is refused for the same reason, not as "already queued or running"
    again = owner_client.post(deploy_url)
    assert again.status_code == 503 and Deployment.objects.filter(status="FAILED").count() == 2

    # Once Redis is back, Deploy starts a run at once
    queue_down.undo()
    back = owner_client.post(deploy_url)
    assert back.status_code == 302
    queued = Deployment.objects.get(status="QUEUED")
    assert back["Location"] == reverse("deployment_detail", args=[queued.pk])


def test_the_canvas_deploy_gets_a_json_503_with_the_reason(
    owner_client: Client, project: Project, queue_down: pytest.MonkeyPatch
) -> None:
    response = owner_client.post(
        reverse("canvas_deploy", args=["acme", "dev"]),
        json.dumps({"version": project.version}),
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 503
    answer = response.json()
    run = the_only_run(project)
    assert answer["error"].startswith(f"{QUEUE_DOWN}: ") and answer["deployment"] == run.pk
    assert_failed_for_the_queue(run)


def test_a_run_started_inside_a_callers_transaction_still_reports_the_queue_down(
    acme: Project, alice: Any, queue_down: pytest.MonkeyPatch
) -> None:
    # "Deploy this plan" and approvals start their run inside their own transaction:
    # the message goes out when that commits, and the refusal must still reach them.
    stage = acme.stages.get()
    with pytest.raises(queue.QueueUnavailable, match=QUEUE_DOWN) as refused, transaction.atomic():
        run_services.deployment_start(stage=stage, kind="plan", user=alice)

    run = Deployment.objects.get(pk=refused.value.deployment_id)
    assert_failed_for_the_queue(run)
    assert run_services.deployment_start(stage=stage, kind="deploy", user=alice, enqueue=False)


def test_the_command_line_says_the_queue_is_down_and_exits_non_zero(
    acme: Project, settings: Any, queue_down: pytest.MonkeyPatch
) -> None:
    settings.EMBEDDED = False  # services mode: the CLI queues the run for the workers

    with pytest.raises(CommandError, match=f"^{QUEUE_DOWN}: .*try again when it is back"):
        call_command("deploy", "acme")

    assert_failed_for_the_queue(the_only_run(acme))
