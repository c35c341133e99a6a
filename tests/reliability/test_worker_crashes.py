"""Scenarios 1 and 2: a worker SIGKILLed in the middle of a deploy or a destroy.

A real `rundramatiq` process on Redis deploys the 21-resource project to the sandbox
through the fault proxy; a crash point kills it right before or after its K-th AWS
write. After the heartbeat goes stale the run shows as interrupted, and the next run
must converge: no twin, no orphan (the sandbox listed per service and by tags), and a
third run changes nothing. A destroy killed half-way and run again leaves nothing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from dashboard.projects.models import Stage
from dashboard.runs import lifecycle
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment, DeploymentEvent
from tests.reliability.dashboard_fixtures import make_project, pending, recorded_by_type, wait_end
from tests.reliability.inventory import TYPE_TO_KIND, counts, duplicates, inventory, leftovers
from tests.reliability.workers import SchedulerProcess, Worker, Workers, workers
from tests.support.faultproxy import FaultProxy, is_read

pytestmark = pytest.mark.django_db(transaction=True)
STALE_S = 2.0
DEPLOY_CRASHES = ["3:after", "14:before", "23:after", "27:after"]
"""Of the deploy's 29 writes: early (log groups), mid (roles, table), the API routes
and integrations, and the event source mapping near the end."""


@pytest.fixture
def scenario(proxy: FaultProxy, redis_url: str, settings: Any, tmp_path: Path) -> Any:
    settings.DEPLOYMENT_STALE_AFTER_S = STALE_S
    with workers(tmp_path, redis_url, proxy.endpoint_url) as pool:
        yield pool


def start(pool: Workers, stage: Stage, kind: str, crash: str = "") -> Deployment:
    pool.crash_at(crash)
    worker = pool.ensure()
    deployment = run_services.deployment_start(stage=stage, kind=kind, user=None)
    if not crash:
        return wait_end(deployment)
    worker.wait_crash()
    deployment.refresh_from_db()
    assert deployment.status == "RUNNING"  # nobody knows yet: the heartbeat has to go stale
    time.sleep(STALE_S + 0.5)
    lifecycle.fail_stale_runs(stage=stage)
    deployment.refresh_from_db()
    assert deployment.status == "FAILED" and deployment.error == lifecycle.INTERRUPTED
    return deployment


def aws_writes(proxy: FaultProxy) -> list[str]:
    """Write calls the proxy saw (the runner's sandbox liveness probe is not AWS)."""
    return [
        c.action for c in proxy.calls() if not is_read(c.action) and "/moto-api/" not in c.action
    ]


def no_orphans(sandbox: str, stage: Stage) -> None:
    """What AWS has of each kind is exactly what the dashboard recorded of it."""
    found = counts(inventory(sandbox, "rely"))
    recorded = recorded_by_type(stage)
    assert {kind: found[kind] for kind in TYPE_TO_KIND.values()} == {
        kind: recorded.get(t, 0) for t, kind in TYPE_TO_KIND.items()
    }


@pytest.mark.worker
def test_a_deploy_killed_at_any_step_is_finished_by_the_next_without_twins_or_orphans(
    sandbox: str, proxy: FaultProxy, scenario: Workers
) -> None:
    stage = make_project()
    trials = []
    for crash in DEPLOY_CRASHES:
        started = time.monotonic()
        killed = start(scenario, stage, "deploy", crash)

        resumed = start(scenario, stage, "deploy")
        assert resumed.status == "SUCCEEDED", (crash, resumed.error)
        assert duplicates(inventory(sandbox, "rely")) == {}, crash
        no_orphans(sandbox, stage)
        assert pending(stage) == []
        proxy.reset()
        third = start(scenario, stage, "deploy")
        assert third.status == "SUCCEEDED" and set(third.plan["summary"]) == {"NO_CHANGE"}
        assert aws_writes(proxy) == [], crash

        gone = start(scenario, stage, "destroy")  # a clean slate for the next crash point
        assert gone.status == "SUCCEEDED", gone.error
        assert leftovers(inventory(sandbox, "rely")) == {}, crash
        trials.append((crash, killed.pk, round(time.monotonic() - started, 1)))
    print(f"deploy crash points {trials}; workers started {scenario.started}")


@pytest.mark.worker
def test_a_destroy_killed_half_way_and_run_again_leaves_nothing_tagged(
    sandbox: str, scenario: Workers
) -> None:
    stage = make_project()
    # a deploy killed after its 20th write leaves creates in flight (intents) ...
    start(scenario, stage, "deploy", "20:after")
    assert pending(stage)
    # ... and the destroy that follows is killed too, after its 8th write
    start(scenario, stage, "destroy", "8:after")

    again = start(scenario, stage, "destroy")

    assert again.status == "SUCCEEDED", again.error
    assert leftovers(inventory(sandbox, "rely")) == {}
    assert recorded_by_type(stage) == {} and pending(stage) == []


SWEEP_PERIOD_S = 1.0
SWEEP_STALE_S = 5.0
"""Longer than the other scenarios' 2 s: here the run beats from a worker process beside a
scheduler and a second worker, and on a loaded 2-core machine a 0.5 s heartbeat can miss 2 s
(the sweep then rightly fails the run before it reaches its crash point)."""


@pytest.mark.worker
def test_a_killed_workers_run_is_failed_by_the_sweep_with_nobody_looking(
    proxy: FaultProxy, redis_url: str, tmp_path: Path
) -> None:
    # Given two workers and a scheduler sending them a sweep every second for runs silent 5 s ...
    env = Workers(tmp_path, redis_url, proxy.endpoint_url).env
    crash_file = tmp_path / "crash-at"  # read by every worker at each run start
    crash_file.write_text("5:after")  # whichever worker takes the deploy dies at write 5
    env |= {
        "DEPLOYMENT_STALE_AFTER_S": str(SWEEP_STALE_S),
        "DEPLOYMENT_SWEEP_PERIOD_S": str(SWEEP_PERIOD_S),
    }
    pool = [Worker(tmp_path, env, n) for n in (1, 2)]
    clock = SchedulerProcess(tmp_path, env, tick_s=SWEEP_PERIOD_S / 2)
    try:
        stage = make_project()
        deployment = run_services.deployment_start(stage=stage, kind="deploy", user=None)

        # ... when the one running the deploy is SIGKILLed mid-run
        deadline = time.monotonic() + 90
        while not any(w.crashed() for w in pool) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(w.crashed() for w in pool), "no worker crashed"
        crash_file.write_text("")
        # and nobody looks: no page, no CLI, only the row read here
        row = _row_when_ended(deployment.pk, timeout_s=SWEEP_STALE_S + SWEEP_PERIOD_S + 15)

        # then the run is failed as interrupted within stale + period (+ a busy machine's margin)
        assert (row["status"], row["error"]) == ("FAILED", lifecycle.INTERRUPTED)
        latency = (row["finished_at"] - row["heartbeat_at"]).total_seconds()
        print(
            f"sweeper latency {latency:.2f} s (stale {SWEEP_STALE_S} s + period {SWEEP_PERIOD_S} s)"
        )
        assert SWEEP_STALE_S <= latency <= SWEEP_STALE_S + SWEEP_PERIOD_S + 3, latency
        run_level = DeploymentEvent.objects.filter(deployment_id=deployment.pk, resource=None)
        statuses = list(run_level.order_by("seq").values_list("status", flat=True))
        assert statuses[-1] == "failed" and statuses.count("failed") == 1, statuses  # one end
        # and the stage is free: the surviving worker deploys it to the end
        again = wait_end(run_services.deployment_start(stage=stage, kind="deploy", user=None))
        assert again.status == "SUCCEEDED", again.error
    finally:
        clock.stop()
        for worker in pool:
            worker.stop()


def _row_when_ended(deployment_id: int, timeout_s: float) -> dict[str, Any]:
    fields = ("status", "error", "heartbeat_at", "finished_at")
    deadline = time.monotonic() + timeout_s
    while True:
        row = Deployment.objects.values(*fields).get(pk=deployment_id)
        if row["status"] != "RUNNING" or time.monotonic() > deadline:
            return row
        time.sleep(0.1)
