"""The scheduler: periodic jobs come due, are sent once however many schedulers tick, and a
worker does each once (the run sweep, drift checks).

A killed `rundramatiq` worker, swept by a scheduler process: tests/reliability/test_worker_crashes.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from dramatiq.brokers.stub import StubBroker

from dashboard import asgi
from dashboard.history import drift as drift_services
from dashboard.projects import services as project_services
from dashboard.projects.models import Project, Stage
from dashboard.runs import actors, execution, lifecycle
from dashboard.runs import selectors as run_selectors
from dashboard.runs import services as run_services
from dashboard.runs.models import DeployedResource, Deployment, DeploymentEvent
from dashboard.scheduling import jobs, scheduler
from tests.conftest import ROOT, _database_env

pytestmark = pytest.mark.django_db(transaction=True)
T0 = datetime(2025, 1, 6, 12, 0, 7, tzinfo=UTC)  # past: the workers judge by the real clock


@pytest.fixture(autouse=True)
def _no_claims_or_messages_left() -> Iterator[None]:
    def clear() -> None:
        cache.clear()
        broker = dramatiq.get_broker()
        if isinstance(broker, StubBroker):
            broker.flush_all()

    clear()
    yield
    clear()


SENT: list[tuple[str, str, str]] = []


@pytest.fixture
def recorded_sends(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What the scheduler sends, kept here instead of in a broker: the same in both modes (a
    StubBroker embedded, Redis with services), and nothing left for another test's worker."""
    SENT.clear()
    monkeypatch.setattr(
        scheduler, "_send", lambda job: SENT.append((str(job.kind), job.target, job.slot))
    )
    yield
    SENT.clear()


def sent_messages() -> list[tuple[str, str, str]]:
    """The periodic jobs the scheduler has sent (see `recorded_sends`)."""
    return list(SENT)


def work_off_sent() -> list[str]:
    """Be the worker: do every job that was sent, as the actor does."""
    outcomes = []
    for kind, target, slot in sent_messages():
        outcomes.append(jobs.job_run(kind=kind, target=target, slot=slot, now=timezone.now()))
    SENT.clear()
    return outcomes


def kinds(sent: list[jobs.DueJob]) -> list[str]:
    return sorted(str(job.kind) for job in sent)


def checked_every(project: Project, hours: int, *, refreshed_at: datetime | None) -> Stage:
    """A stage with something deployed, a drift check every `hours`, last refreshed then."""
    stage = project.stages.get()
    DeployedResource.objects.create(
        stage=stage, logical_id="component/jobs/queue", type="sqs:queue", physical_id="acme-jobs"
    )
    Stage.objects.filter(pk=stage.pk).update(drift_check_hours=hours)
    if refreshed_at is not None:
        run = run_services.deployment_start(stage=stage, kind="refresh", user=None, enqueue=False)
        Deployment.objects.filter(pk=run.pk).update(status="SUCCEEDED", created_at=refreshed_at)
    return stage


def refreshes(stage: Stage) -> list[Deployment]:
    return list(Deployment.objects.filter(stage=stage, kind="refresh").order_by("pk"))


def all_at_once[T](n: int, call: Callable[[], T]) -> list[T]:
    """`call` in n threads released together, each on its own database connection."""
    start = threading.Barrier(n)
    results: list[T] = []

    def one() -> None:
        try:
            start.wait()
            results.append(call())
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == n
    return results


# --- coming due, once ------------------------------------------------------------------------
def test_a_drift_check_comes_due_after_its_hours_and_starts_one_refresh(
    acme: Project, recorded_sends: None
) -> None:
    # Given a stage checked every 6 hours, last refreshed at T0
    stage = checked_every(acme, 6, refreshed_at=T0)

    # when the clock reads 5 h 59 later, only the periodic jobs are due, no drift check
    assert kinds(scheduler.scheduler_tick(now=T0 + timedelta(hours=5, minutes=59))) == [
        "alarm-watch",
        "preview-expiry",
        "run-sweep",
    ]
    # at 6 h the drift check comes due and is sent; 30 s later (a new sweep slot) not again
    at_six = scheduler.scheduler_tick(now=T0 + timedelta(hours=6))
    assert [(j.kind, j.target) for j in at_six if j.kind == "drift-check"] == [
        ("drift-check", str(stage.pk))
    ]
    later = kinds(scheduler.scheduler_tick(now=T0 + timedelta(hours=6, seconds=30)))
    assert "drift-check" not in later and "run-sweep" in later
    drift_checks = [m for m in sent_messages() if m[0] == "drift-check"]
    assert drift_checks == [("drift-check", str(stage.pk), (T0 + timedelta(hours=6)).isoformat())]

    # then the worker starts one refresh, named after the schedule
    work_off_sent()
    started = refreshes(stage)[1:]
    assert [(r.status, r.triggered_by_name) for r in started] == [
        ("QUEUED", "scheduler (every 6 h)")
    ]


def test_a_stage_whose_check_just_ran_is_not_due(acme: Project) -> None:
    now = timezone.now()
    stage = checked_every(acme, 1, refreshed_at=now - timedelta(minutes=1))

    assert drift_services.drift_due_slot(stage=stage, now=now) is None
    assert "drift-check" not in kinds(scheduler.scheduler_tick(now=now))


def test_a_drift_check_sent_twice_starts_one_refresh(acme: Project, recorded_sends: None) -> None:
    # Given a due check whose message reached the workers twice (the cache lost its claim)
    stage = checked_every(acme, 6, refreshed_at=None)
    scheduler.scheduler_tick(now=T0)
    cache.clear()
    scheduler.scheduler_tick(now=T0)
    assert [m[0] for m in sent_messages()].count("drift-check") == 2

    # when both are done, at the same moment
    outcomes = all_at_once(
        2, lambda: jobs.job_run(kind="drift-check", target=str(stage.pk), slot="first", now=T0)
    )

    # then one refresh started; the other found the stage no longer due
    assert len(refreshes(stage)) == 1
    assert sorted(o.split(":")[1].strip().split()[0] for o in outcomes) == ["not", "refresh"]


def test_a_busy_stage_is_offered_again_once_the_claim_lapses(
    acme: Project, monkeypatch: pytest.MonkeyPatch, recorded_sends: None
) -> None:
    stage = checked_every(acme, 6, refreshed_at=None)
    deploy = run_services.deployment_start(stage=stage, kind="deploy", user=None, enqueue=False)
    monkeypatch.setattr(jobs, "DRIFT_RETRY_S", 1)

    scheduler.scheduler_tick(now=T0)
    assert work_off_sent().count(f"stage {stage.pk}: not due any more, gone, or busy") == 1
    lifecycle.cancel_queued(deployment_id=deploy.pk, by="alice")
    time.sleep(1.1)  # the claim's TTL is real time, in the cache

    assert "drift-check" in kinds(scheduler.scheduler_tick(now=T0 + timedelta(seconds=30)))
    work_off_sent()
    assert len(refreshes(stage)) == 1


# --- many schedulers -------------------------------------------------------------------------
def test_four_schedulers_ticking_at_once_send_each_job_once(
    alice: Any, recorded_sends: None
) -> None:
    stages = [
        checked_every(
            project_services.project_create(name=f"p{i}", user=alice), 2, refreshed_at=None
        )
        for i in range(3)
    ]

    sent = all_at_once(4, lambda: scheduler.scheduler_tick(now=T0))

    keys = [job.key for each in sent for job in each]
    # sweep, preview expiry, alarm watch, 3 checks
    assert len(keys) == len(set(keys)) == 3 + len(stages)
    assert len(sent_messages()) == len(keys)
    work_off_sent()
    assert [len(refreshes(stage)) for stage in stages] == [1, 1, 1]


@pytest.mark.skipif(django_settings.EMBEDDED, reason="services mode only (needs REDIS_URL)")
def test_two_scheduler_processes_send_each_job_once(acme: Project, redis_url: str) -> None:
    checked_every(acme, 6, refreshed_at=None)
    env = {**os.environ, **_database_env(), "REDIS_URL": redis_url}
    env = {k: v for k, v in env.items() if v != ""}
    command = [sys.executable, "manage.py", "scheduler", "--once", "--skip-checks"]

    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in processes]

    assert all(p.returncode == 0 for p in processes), outputs
    listed = [out.split("jobs sent: ")[-1].strip() for out in outputs]
    sent = [key for keys in listed if keys != "-" for key in keys.split(", ")]
    # each job once between them (a process that ticks in a later slot sends that slot's own)
    assert len(sent) == len(set(sent)), outputs
    assert sum("drift-check" in key for key in sent) == 1, outputs


# --- the embedded runner ---------------------------------------------------------------------
@pytest.mark.skipif(not django_settings.EMBEDDED, reason="embedded mode only (REDIS_URL unset)")
def test_the_embedded_runner_starts_one_scheduler_thread(settings: Any) -> None:
    settings.EMBEDDED_WORKER_THREADS = 1
    try:
        all_at_once(3, asgi._start_worker)  # three first requests at once

        names = [t.name for t in threading.enumerate()]
        assert names.count(scheduler.THREAD_NAME) == 1
    finally:
        scheduler.stop_embedded_scheduler()
        actors.stop_embedded_worker()
    time.sleep(0.1)
    assert scheduler.THREAD_NAME not in [t.name for t in threading.enumerate()]


# --- the run sweep ---------------------------------------------------------------------------
def running(project: Project, *, silent_for_s: float) -> Deployment:
    """A deploy its worker started, then went silent `silent_for_s` ago (died)."""
    deployment = run_services.deployment_start(
        stage=project.stages.get(), kind="deploy", user=None, enqueue=False
    )
    last_beat = timezone.now() - timedelta(seconds=silent_for_s)
    Deployment.objects.filter(pk=deployment.pk).update(
        status="RUNNING", started_at=last_beat, heartbeat_at=last_beat
    )
    return deployment


def final_events(deployment: Deployment) -> list[DeploymentEvent]:
    return list(
        DeploymentEvent.objects.filter(deployment=deployment, resource=None, status="failed")
    )


def test_two_sweeps_at_once_fail_each_dead_run_once_with_one_final_event(
    alice: Any, settings: Any
) -> None:
    settings.DEPLOYMENT_STALE_AFTER_S = 60
    dead = [
        running(project_services.project_create(name=f"p{i}", user=alice), silent_for_s=61)
        for i in range(3)
    ]
    alive = running(project_services.project_create(name="alive", user=alice), silent_for_s=5)

    failed = all_at_once(2, lifecycle.fail_stale_runs)

    assert sum(failed) == 3
    for deployment in dead:
        deployment.refresh_from_db()
        assert (deployment.status, deployment.error) == ("FAILED", lifecycle.INTERRUPTED)
        assert len(final_events(deployment)) == 1
    alive.refresh_from_db()
    assert alive.status == "RUNNING" and final_events(alive) == []


@pytest.mark.skipif(not django_settings.EMBEDDED, reason="embedded mode only (REDIS_URL unset)")
def test_the_embedded_runner_fails_a_dead_run_with_nobody_looking(
    acme: Project, settings: Any
) -> None:
    # Given the web process's worker threads and scheduler, sweeping every second for runs
    # silent 1 s ...
    settings.EMBEDDED_WORKER_THREADS = 1
    settings.DEPLOYMENT_STALE_AFTER_S, settings.DEPLOYMENT_SWEEP_PERIOD_S = 1, 1
    settings.SCHEDULER_TICK_S = 0.5
    # ... and a run whose worker (a CLI process, say) has just died
    dead = running(acme, silent_for_s=0)
    stage = acme.stages.get()

    asgi._start_worker()
    try:
        # when nobody looks (no page, no CLI: the row itself is read)
        deadline = time.monotonic() + 15
        fields = ("status", "error", "heartbeat_at", "finished_at")
        while time.monotonic() < deadline:
            row = Deployment.objects.values(*fields).get(pk=dead.pk)
            if row["status"] != "RUNNING":
                break
            time.sleep(0.1)
    finally:
        scheduler.stop_embedded_scheduler()
        actors.stop_embedded_worker()

    # then it was failed as interrupted within stale + period (+ margin for a busy machine)
    assert (row["status"], row["error"]) == ("FAILED", lifecycle.INTERRUPTED)
    latency = (row["finished_at"] - row["heartbeat_at"]).total_seconds()
    assert 1 <= latency <= 1 + 1 + 3, latency
    assert len(final_events(dead)) == 1
    assert run_selectors.deployment_active(stage=stage) is None  # the stage is free


# --- a real worker ---------------------------------------------------------------------------
def test_a_real_worker_runs_a_due_drift_check_once(
    acme: Project, alice: Any, dramatiq_worker: Any
) -> None:
    # Given a queue deployed to the sandbox, checked every 6 hours and never refreshed
    project_services.component_create(project=acme, user=alice, kind="queue", name="jobs")
    stage = acme.stages.get()
    deploy = run_services.deployment_start(stage=stage, kind="deploy", user=alice, enqueue=False)
    assert execution.run_deployment(deploy.pk).status == "SUCCEEDED"  # type: ignore[union-attr]
    drift_services.drift_schedule(stage=stage, hours=6, user=alice)

    # when two schedulers tick at once
    all_at_once(2, lambda: scheduler.scheduler_tick(now=timezone.now()))

    # then the worker refreshes the stage once, as the schedule
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        done = [r for r in refreshes(stage) if r.status not in Deployment.ACTIVE]
        if done:
            break
        time.sleep(0.2)
    time.sleep(1)  # room for a second refresh, were one wrongly started
    found = refreshes(stage)
    assert [(r.status, r.triggered_by_name) for r in found] == [
        ("SUCCEEDED", "scheduler (every 6 h)")
    ], [r.error for r in found]
    assert drift_services.drift_due_slot(stage=stage, now=timezone.now()) is None


# --- the commands ------------------------------------------------------------------------------
def test_refresh_schedule_points_at_the_scheduler() -> None:
    with pytest.raises(CommandError, match=r"manage\.py scheduler"):
        call_command("refresh", "--schedule")


@pytest.mark.skipif(not django_settings.EMBEDDED, reason="embedded mode only (REDIS_URL unset)")
def test_the_scheduler_command_says_the_web_process_schedules_when_embedded() -> None:
    with pytest.raises(CommandError, match="the web process runs the scheduler itself"):
        call_command("scheduler", "--once")
