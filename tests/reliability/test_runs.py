"""Scenario 4 (an AWS error at resource k) and fencing (a worker that wakes up too late).

In-process runs (`execution.run_deployment`, as a worker thread would) against the sandbox
through the fault proxy: what matters here is the database and AWS, not the queue.
"""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from dashboard.runs import execution, lifecycle
from dashboard.runs import selectors as run_selectors
from dashboard.runs import services as run_services
from dashboard.runs.models import DeployedResource, Deployment
from tests.reliability.conftest import slow_writes
from tests.reliability.dashboard_fixtures import make_project, pending, wait_end
from tests.reliability.inventory import duplicates, inventory
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.django_db(transaction=True)
REFUSAL = {
    "action": "dynamodb:CreateTable",
    "kind": "server_error",
    "status": 400,
    "code": "ValidationException",
    "message": "One or more parameter values were invalid: injected for scenario 4",
}


def run(stage: Any, kind: str = "deploy") -> Deployment:
    deployment = run_services.deployment_start(stage=stage, kind=kind, user=None, enqueue=False)
    done = execution.run_deployment(deployment.pk)
    assert done is not None
    return done


def test_an_aws_error_at_one_resource_fails_the_run_with_its_message_and_the_next_resumes(
    proxy: FaultProxy,
) -> None:
    stage = make_project()
    proxy.set_profile({"faults": [REFUSAL]})

    failed = run(stage)

    assert failed.status == "FAILED"
    assert "ValidationException: One or more parameter values were invalid" in failed.error
    assert "creating DynamoDB table" in failed.error
    recorded = set(
        DeployedResource.objects.filter(stage=stage).values_list("logical_id", flat=True)
    )
    assert len(recorded) >= 15 and not any(lid.startswith("table/") for lid in recorded)
    events = run_selectors.deployment_events(deployment=failed)
    skipped = {e["resource"] for e in events if e["status"] == "skipped"}
    assert skipped and all(
        e["resource"] not in recorded for e in events if e["resource"] in skipped
    )
    assert run_selectors.deployment_active(stage=stage) is None  # the lock is released

    proxy.set_profile({})
    proxy.reset()
    resumed = run(stage)

    assert resumed.status == "SUCCEEDED", resumed.error
    created = {
        e["resource"]
        for e in run_selectors.deployment_events(deployment=resumed)
        if e["action"] == "CREATE" and e["status"] == "started"
    }
    assert created and not created & recorded  # what the failed run made is not made again
    assert "table/notes" in created
    assert duplicates(inventory(proxy_upstream(proxy), "rely")) == {}


def proxy_upstream(proxy: FaultProxy) -> str:
    host, port = proxy.upstream
    return f"http://{host}:{port}"


def test_a_worker_that_lost_its_run_stops_writing_state_and_events(
    proxy: FaultProxy, settings: Any
) -> None:
    # Given: a slow deploy is running in a worker thread ...
    stage = make_project()
    proxy.set_profile(slow_writes(0.4))
    deployment = run_services.deployment_start(stage=stage, kind="deploy", user=None, enqueue=False)
    worker = threading.Thread(target=execution.run_deployment, args=(deployment.pk,), daemon=True)
    worker.start()
    while not DeployedResource.objects.filter(stage=stage).exists():
        time.sleep(0.05)

    # ... when it is declared dead (as if it had paused past its heartbeat)
    settings.DEPLOYMENT_STALE_AFTER_S = 0
    assert lifecycle.fail_stale_runs(stage=stage) == 1
    fenced_at = DeployedResource.objects.filter(stage=stage).count()
    last_seq = run_selectors.deployment_events(deployment=deployment)[-1]["seq"]
    worker.join(timeout=60)

    # then: it wrote nothing more, neither state nor history, and started nothing new
    assert not worker.is_alive()
    assert DeployedResource.objects.filter(stage=stage).count() == fenced_at
    after = run_selectors.deployment_events(deployment=deployment, after=last_seq)
    assert after == []
    deployment.refresh_from_db()
    assert deployment.status == "FAILED" and deployment.error == lifecycle.INTERRUPTED
    # and a new run takes over and converges, finding what the lost run made in flight
    settings.DEPLOYMENT_STALE_AFTER_S = 90
    proxy.set_profile({})
    follow = wait_end(run(stage))
    assert follow.status == "SUCCEEDED", follow.error
    assert duplicates(inventory(proxy_upstream(proxy), "rely")) == {} and pending(stage) == []


def test_cancel_from_the_command_line_stops_a_queued_run_and_asks_a_running_one(
    sandbox: str,
) -> None:
    stage = make_project()
    queued = run_services.deployment_start(stage=stage, kind="deploy", user=None, enqueue=False)
    out = io.StringIO()

    call_command("cancel", "rely", "--stage", "dev", stdout=out)

    queued.refresh_from_db()
    assert queued.status == "CANCELLED" and "cancelled" in out.getvalue()
    running = run_services.deployment_start(stage=stage, kind="deploy", user=None, enqueue=False)
    Deployment.objects.filter(pk=running.pk).update(status="RUNNING")
    call_command("cancel", "rely", stdout=out)
    running.refresh_from_db()
    assert running.cancel_requested and "nothing new starts" in out.getvalue()
    running.status = "CANCELLED"
    running.save()
    with pytest.raises(CommandError, match="nothing is running on rely/dev"):
        call_command("cancel", "rely")
