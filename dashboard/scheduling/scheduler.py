"""The scheduler: every tick, hand each due periodic job to the workers, once.

One clock for every periodic job (dashboard/scheduling/jobs.py says which): `manage.py
scheduler` with services (its own compose service), a thread of the web process embedded.
It does no work itself: it sends a `periodic_job` message and a worker does the job, after
asking again whether it is still due.

Single however many schedulers run: before sending, a scheduler claims the job's name
(kind, target, due slot) with `cache.add` and a TTL, Redis `SET NX EX` with services. Only
the one that added the key sends; the others see it taken. A send the broker refuses gives
the claim back, so the next tick tries again. Should the cache forget a claim (flushed,
restarted), a job may be sent twice, and is still done once: a sweep flips each run once,
and a drift check re-asks under the stage's row lock, where the first one's refresh makes
the stage not due.

A clock rather than an actor that re-sends itself with a delay: such a chain ends for good
the first time its re-send meets a Redis outage, and every start adds one more chain; a
clock has no message to lose and claims keep it single.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime

import dramatiq
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connections
from django.utils import timezone

from dashboard.runs.queue import BROKER_ERRORS
from dashboard.scheduling import jobs

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
THREAD_NAME = "scheduler"


def tick_s() -> float:
    return float(settings.SCHEDULER_TICK_S)


def scheduler_tick(*, now: datetime) -> list[jobs.DueJob]:
    """Send every job due at `now` that no scheduler has claimed yet: the ones sent here."""
    sent = []
    for job in jobs.jobs_due(now=now):
        if not _claim(job):
            continue
        try:
            _send(job)
        except BROKER_ERRORS as exc:
            cache.delete(job.key)  # not sent: the next tick, here or elsewhere, tries again
            log.warning("scheduler: %s not sent (%s), trying again next tick", job.key, exc)
            continue
        log.info("scheduler: %s sent", job.key)
        sent.append(job)
    return sent


def _claim(job: jobs.DueJob) -> bool:
    owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    # Whole seconds: Django's Redis cache truncates timeouts, and 0 would mean "expire now".
    return bool(cache.add(job.key, owner, timeout=max(1, job.lease_s)))


def _send(job: jobs.DueJob) -> None:
    # By name, like dashboard/runs/queue.py: a scheduler process needs no actor imported.
    broker = dramatiq.get_broker()
    broker.declare_queue(jobs.QUEUE)
    broker.enqueue(
        dramatiq.Message(
            queue_name=jobs.QUEUE,
            actor_name=jobs.ACTOR_NAME,
            args=(str(job.kind), job.target, job.slot),
            kwargs={},
            options={},
        )
    )


class Scheduler:
    """A clock: ticks at once, then every `period` seconds until stopped."""

    def __init__(self, period: float, clock: Clock = timezone.now) -> None:
        self.period = period
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Scheduler:
        """Run in a thread of this process (the embedded web process)."""
        self._thread = threading.Thread(target=self.run, name=THREAD_NAME, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(self.period, 5))

    def run(self) -> None:
        """Tick until stopped (`manage.py scheduler` runs this in its main thread)."""
        try:
            while True:
                self.tick()
                if self._stop.wait(self.period):
                    return
        finally:
            connections.close_all()  # this thread's own connections

    def tick(self) -> list[jobs.DueJob]:
        close_old_connections()  # a database restarted since the last tick is reconnected
        try:
            return scheduler_tick(now=self.clock())
        except Exception:  # the database or the cache is down: the next tick tries again
            log.warning("scheduler: tick failed, trying again in %s s", self.period, exc_info=True)
            return []
        finally:
            close_old_connections()


_embedded: Scheduler | None = None
_embedded_lock = threading.Lock()


def start_embedded_scheduler() -> Scheduler | None:
    """Start this process's one scheduler thread (embedded mode; a tick of 0 turns it off)."""
    global _embedded
    period = tick_s()
    if not settings.EMBEDDED or period <= 0:
        return None
    with _embedded_lock:
        if _embedded is None:
            _embedded = Scheduler(period).start()
            log.info("scheduler: periodic jobs looked for every %s s", period)
    return _embedded


def stop_embedded_scheduler() -> None:
    global _embedded
    with _embedded_lock:
        if _embedded is not None:
            _embedded.stop()
            _embedded = None
