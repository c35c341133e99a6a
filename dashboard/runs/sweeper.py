"""The periodic sweep: a run whose worker died is failed within a bound, with nobody looking.

A running worker writes its run's heartbeat every `DEPLOYMENT_HEARTBEAT_S`; a RUNNING run
whose last beat is older than `DEPLOYMENT_STALE_AFTER_S` belongs to a dead worker and is
failed as interrupted by `lifecycle.fail_stale_runs`, which frees its stage. Pages and the
CLI do that when they look; this sweep does it when nobody looks.

Every worker process runs a `Sweeper` clock, started when its dramatiq worker boots
(`SweeperMiddleware`): the `rundramatiq` processes with services, the embedded worker
inside the web process otherwise. Each tick asks for the period's lease with `cache.add`
(Redis `SET key value NX EX period` with services, a locked in-process dict embedded) and
only the holder sweeps, so however many workers run there is one sweep per period. Two
sweeps that do meet still fail each run once: `lifecycle.finish` flips the row only from
RUNNING, and only the one that flips it writes the final event.

Bound: a dead worker's run is failed at most `DEPLOYMENT_STALE_AFTER_S +
DEPLOYMENT_SWEEP_PERIOD_S` (plus one sweep's duration) after its last heartbeat: 60 + 15 =
75 s with the defaults.

A clock in each worker rather than an actor that re-sends itself: such a chain of messages
ends for good the first time its re-send meets a Redis outage, and every worker boot would
start one more chain; a clock has no message to lose and nothing to de-duplicate.

django_dramatiq builds the broker, and so this middleware, before Django loads the models:
this module imports the run lifecycle (and through it the models) only when a worker boots.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

import dramatiq
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connections

log = logging.getLogger(__name__)
LEASE_KEY = "strands-deploy:runs:sweep-lease"


def period_s() -> float:
    """Seconds between sweeps; 0 turns the sweep off (pages and the CLI still fail on look)."""
    return float(getattr(settings, "DEPLOYMENT_SWEEP_PERIOD_S", 15))


def take_lease(period: float) -> bool:
    """True for the one caller per period, across every worker process sharing the cache."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    # Whole seconds: Django's Redis cache truncates timeouts, and 0 would mean "expire now".
    return bool(cache.add(LEASE_KEY, owner, timeout=max(1, int(period))))


def sweep_once(period: float | None = None) -> int | None:
    """Fail the runs whose worker stopped beating, if this period's lease is ours:
    how many were failed, or None when another worker sweeps this period."""

    if not take_lease(period if period is not None else period_s()):
        return None
    from dashboard.runs import lifecycle  # see the module docstring: not before the models load

    failed = lifecycle.fail_stale_runs()
    if failed:
        log.warning("sweep: %d runs failed as interrupted (no heartbeat)", failed)
    return failed


class Sweeper:
    """A worker's clock: sweeps at start, then every `period` seconds until stopped."""

    def __init__(self, period: float) -> None:
        self.period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="run-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=max(self.period, 5))

    def _run(self) -> None:
        try:
            while True:
                self._tick()
                if self._stop.wait(self.period):
                    return
        finally:
            connections.close_all()  # this thread's own connections

    def _tick(self) -> None:
        close_old_connections()  # a database restarted since the last tick is reconnected
        try:
            sweep_once(self.period)
        except Exception:  # the database or the cache is down: the next tick tries again
            log.warning("sweep: failed, trying again in %s s", self.period, exc_info=True)
        finally:
            close_old_connections()


class SweeperMiddleware(dramatiq.Middleware):
    """Starts a worker's sweep clock when it has booted, stops it before it shuts down."""

    def __init__(self) -> None:
        self._clocks: dict[int, Sweeper] = {}

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        period = period_s()
        if period > 0:
            self._clocks[id(worker)] = Sweeper(period).start()
            log.info("sweep: stale runs are looked for every %s s", period)

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        clock = self._clocks.pop(id(worker), None)
        if clock is not None:
            clock.stop()
