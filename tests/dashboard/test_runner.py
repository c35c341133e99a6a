"""Running one deployment: runs once, fails clearly, hears a cancel."""

from __future__ import annotations

import time
from typing import Any

import pytest

from dashboard.projects import services as project_services
from dashboard.projects.models import Project
from dashboard.runs import execution
from dashboard.runs import selectors as run_selectors
from dashboard.runs import services as run_services
from dashboard.runs.models import DeployedResource, Deployment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def support(acme: Project, alice: Any) -> Project:
    """acme with one agent behind an HTTP API."""
    project_services.agent_create(project=acme, user=alice, data={"name": "support"})
    project_services.component_create(
        project=acme, user=alice, kind="http_api", name="public", settings={}
    )
    project_services.link_create(
        project=acme, user=alice, source="http_api:public", target="agent:support"
    )
    return acme


def test_a_deploy_runs_once_even_if_its_message_comes_twice(
    support: Project, alice: Any, sandbox: str
) -> None:
    deployment = run_services.deployment_start(
        stage=support.stages.get(), kind="deploy", user=alice, enqueue=False
    )

    first = execution.run_deployment(deployment.pk)
    events_after_first = run_selectors.deployment_events(deployment=deployment)
    second = execution.run_deployment(deployment.pk)

    assert first is not None and first.status == "SUCCEEDED", first and first.error
    assert first.counts["succeeded"] == first.counts["total"] > 0
    assert second is None
    assert run_selectors.deployment_events(deployment=deployment) == events_after_first
    assert DeployedResource.objects.filter(stage__project=support).count() == first.counts["total"]
    assert (
        events_after_first[0]["status"] == "started" and events_after_first[0]["resource"] is None
    )
    assert (
        events_after_first[-1]["status"] == "succeeded"
        and events_after_first[-1]["resource"] is None
    )


def test_a_plan_writes_no_state(support: Project, alice: Any, sandbox: str) -> None:
    deployment = run_services.deployment_start(
        stage=support.stages.get(), kind="plan", user=alice, enqueue=False
    )

    done = execution.run_deployment(deployment.pk)

    assert done is not None and done.status == "SUCCEEDED"
    assert done.plan["summary"]["CREATE"] > 0
    assert not DeployedResource.objects.exists()


def test_without_the_sandbox_the_run_fails_saying_how_to_start_it(
    support: Project, alice: Any, settings: Any
) -> None:
    settings.SANDBOX_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    deployment = run_services.deployment_start(
        stage=support.stages.get(), kind="deploy", user=alice, enqueue=False
    )

    done = execution.run_deployment(deployment.pk)

    assert done is not None and done.status == "FAILED"
    assert "not answering at http://127.0.0.1:9" in done.error
    assert "`make run` or `python manage.py sandbox`" in done.error
    assert run_selectors.deployment_active(stage=support.stages.get()) is None


def test_the_watch_sees_a_cancel_request_and_writes_heartbeats(acme: Project, alice: Any) -> None:
    deployment = run_services.deployment_start(
        stage=acme.stages.get(), kind="deploy", user=alice, enqueue=False
    )
    Deployment.objects.filter(pk=deployment.pk).update(status="RUNNING")
    db = execution.DbThread("test-db")
    try:
        with execution.Watch(deployment.pk, db, poll_s=0.1) as watch:
            time.sleep(0.3)
            assert not watch.cancelled()
            run_services.deployment_cancel(deployment=deployment, user=alice)
            deadline = time.monotonic() + 5
            while not watch.cancelled() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert watch.cancelled()
            time.sleep(0.7)  # past one heartbeat interval (0.5 s in tests)
    finally:
        db.close()
    deployment.refresh_from_db()
    assert deployment.heartbeat_at is not None
