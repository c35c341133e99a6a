"""Scenario 9: Redis restarted in the middle of a deploy (services mode).

A private `redis-server` (its own free port, no persistence: a restart loses every
queued message) carries the run to a real `rundramatiq` worker; the shared Redis is
never touched. Half-way through a slowed-down deploy Redis is killed and started
again on the same port. The run must end SUCCEEDED, or FAILED as interrupted and
resumable; the database's event history has no gap (seq 1..N); the worker keeps
consuming afterwards, and a next deploy converges.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from dramatiq.brokers.redis import RedisBroker

from dashboard.projects.models import Stage
from dashboard.runs import actors, lifecycle
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment
from tests.reliability.conftest import slow_writes
from tests.reliability.dashboard_fixtures import make_project, wait_end
from tests.reliability.inventory import duplicates, inventory
from tests.reliability.workers import Workers, workers
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.django_db(transaction=True)
STALE_S = 3.0


class PrivateRedis:
    """A redis-server this test owns: started, killed and restarted by its own pid."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        log = (self.tmp / f"redis-{self.restarts}.log").open("wb")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.tmp)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def restart(self) -> float:
        """Kill it and start it again; returns how long Redis was gone."""
        gone = time.monotonic()
        self.kill()
        self.restarts += 1
        self.start()
        return time.monotonic() - gone


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server installed (scenario 9 restarts its own Redis)")
    if not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL"):
        pytest.skip("needs services mode (DATABASE_URL and REDIS_URL): a worker on Redis")
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for a worker process")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def pool(
    proxy: FaultProxy, private_redis: PrivateRedis, settings: Any, tmp_path: Path
) -> Iterator[Workers]:
    settings.DEPLOYMENT_STALE_AFTER_S = STALE_S
    with workers(tmp_path, private_redis.url, proxy.endpoint_url) as started:
        yield started


def send(redis_url: str, stage: Stage, kind: str = "deploy") -> Deployment:
    """Queue a run on the private Redis (the test process's own broker is the shared one)."""
    deployment = run_services.deployment_start(stage=stage, kind=kind, user=None, enqueue=False)
    broker = RedisBroker(url=redis_url)
    try:
        broker.enqueue(actors.actor_for(kind).message(deployment.pk))
    finally:
        broker.close()
    return deployment


def wait_events(deployment: Deployment, at_least: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while deployment.events.count() < at_least:
        assert time.monotonic() < deadline, f"#{deployment.pk}: fewer than {at_least} events"
        time.sleep(0.1)


def seqs(deployment: Deployment) -> list[int]:
    return list(deployment.events.order_by("seq").values_list("seq", flat=True))


@pytest.mark.worker
def test_redis_restarted_mid_deploy_leaves_a_true_run_and_a_gapless_history(
    sandbox: str, proxy: FaultProxy, private_redis: PrivateRedis, pool: Workers
) -> None:
    stage = make_project()
    proxy.set_profile(slow_writes(0.3))  # ~10 s of deploy: room to restart Redis inside it
    pool.ensure()
    started = time.monotonic()
    deployment = send(private_redis.url, stage)
    wait_events(deployment, 8)

    down_s = private_redis.restart()

    deployment.refresh_from_db()
    assert deployment.is_active  # the restart really was mid-deploy
    try:
        done = wait_end(deployment, timeout_s=90)
    except AssertionError:  # the run went silent: the stale heartbeat shows it interrupted
        lifecycle.fail_stale_runs(stage=stage)
        done = Deployment.objects.get(pk=deployment.pk)
    took = time.monotonic() - started

    assert done.status == "SUCCEEDED" or done.error == lifecycle.INTERRUPTED, done.error
    history = seqs(done)
    assert history == list(range(1, len(history) + 1)), history  # no gap, no repeat
    # the worker still consumes from the restarted Redis, and the next deploy converges
    proxy.set_profile({})
    again = wait_end(send(private_redis.url, stage), timeout_s=90)
    assert again.status == "SUCCEEDED", again.error
    if done.status == "SUCCEEDED":
        assert set(again.plan["summary"]) == {"NO_CHANGE"}
    assert seqs(again) == list(range(1, len(seqs(again)) + 1))
    assert duplicates(inventory(sandbox, "rely")) == {}
    print(f"Redis restarted mid-deploy (down {down_s:.2f} s): run #{done.pk} {done.status} "
          f"with {len(history)} events seq 1..{len(history)}, {took:.1f} s; "
          f"next deploy {again.status}")  # fmt: skip
