"""The periodic sweep: dead workers' runs failed with nobody looking, once, one sweep a period.

A killed `rundramatiq` worker on Redis: tests/reliability/test_worker_crashes.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from dashboard.projects import services as project_services
from dashboard.projects.models import Project
from dashboard.runs import actors, lifecycle, sweeper
from dashboard.runs import selectors as run_selectors
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment, DeploymentEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_lease_left() -> Iterator[None]:
    cache.delete(sweeper.LEASE_KEY)
    yield
    cache.delete(sweeper.LEASE_KEY)


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


def test_one_sweep_per_period_however_many_workers_ask(acme: Project, settings: Any) -> None:
    dead = running(acme, silent_for_s=61)
    settings.DEPLOYMENT_STALE_AFTER_S = 60

    swept = all_at_once(4, lambda: sweeper.sweep_once(period=30))

    assert sorted(swept, key=str) == [1, None, None, None]
    assert sweeper.sweep_once(period=30) is None  # still this period
    dead.refresh_from_db()
    assert dead.status == "FAILED" and len(final_events(dead)) == 1


@pytest.mark.skipif(not django_settings.EMBEDDED, reason="embedded mode only (REDIS_URL unset)")
def test_the_embedded_worker_fails_a_dead_run_with_nobody_looking(
    acme: Project, settings: Any
) -> None:
    # Given the web process's worker threads, sweeping every second for runs silent 1 s ...
    settings.EMBEDDED_WORKER_THREADS = 1
    settings.DEPLOYMENT_STALE_AFTER_S, settings.DEPLOYMENT_SWEEP_PERIOD_S = 1, 1
    # ... and a run whose worker (a CLI process, say) has just died
    dead = running(acme, silent_for_s=0)
    stage = acme.stages.get()

    actors.start_embedded_worker()
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
        actors.stop_embedded_worker()

    # then it was failed as interrupted within stale + period (+ margin for a busy machine)
    assert (row["status"], row["error"]) == ("FAILED", lifecycle.INTERRUPTED)
    latency = (row["finished_at"] - row["heartbeat_at"]).total_seconds()
    assert 1 <= latency <= 1 + 1 + 2, latency
    assert len(final_events(dead)) == 1
    assert run_selectors.deployment_active(stage=stage) is None  # the stage is free
