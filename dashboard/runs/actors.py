"""dramatiq actors: thin, take a deployment id, never retried blindly, safe to run twice.

Safety comes from `execution.run_deployment`: it runs only a row it flips QUEUED -> RUNNING
itself. A failed deploy is a user's decision to retry (AWS may be half-changed), so
`max_retries=0`.

Embedded mode (no REDIS_URL) runs the workers as threads of the web process on the
StubBroker: `start_embedded_worker` is called by `dashboard.asgi` on its first request.
Periodic jobs (the sweep for runs whose worker died, drift checks) are sent by the
scheduler (dashboard/scheduling/), to an actor of their own.
"""

from __future__ import annotations

import atexit
import logging
import threading

import dramatiq
from django.conf import settings

from dashboard.runs import execution, queue
from dashboard.runs.models import Deployment
from dashboard.runs.queue import QUEUE

# Declared here too, so the embedded worker (started below) knows the periodic jobs' actor;
# `rundramatiq` finds it through DRAMATIQ_AUTODISCOVER_MODULES.
from dashboard.scheduling import actors as periodic_actors  # noqa: F401

log = logging.getLogger(__name__)
OPTIONS = {"max_retries": 0, "queue_name": QUEUE, "time_limit": settings.DEPLOYMENT_TIME_LIMIT_MS}


@dramatiq.actor(**OPTIONS)
def plan(deployment_id: int) -> None:
    execution.run_deployment(deployment_id)


@dramatiq.actor(**OPTIONS)
def deploy(deployment_id: int) -> None:
    execution.run_deployment(deployment_id)


@dramatiq.actor(**OPTIONS)
def destroy(deployment_id: int) -> None:
    execution.run_deployment(deployment_id)


@dramatiq.actor(**OPTIONS)
def refresh(deployment_id: int) -> None:
    execution.run_deployment(deployment_id)


@dramatiq.actor(**OPTIONS)
def sweep(deployment_id: int) -> None:
    execution.run_deployment(deployment_id)


ACTORS = {
    Deployment.Kind.PLAN: plan,
    Deployment.Kind.DEPLOY: deploy,
    Deployment.Kind.DESTROY: destroy,
    Deployment.Kind.REFRESH: refresh,
    Deployment.Kind.SWEEP: sweep,
}


def actor_for(kind: str) -> dramatiq.Actor[..., None]:
    return ACTORS[Deployment.Kind(kind)]


_worker: dramatiq.Worker | None = None
_worker_lock = threading.Lock()


def start_embedded_worker() -> dramatiq.Worker | None:
    """Start worker threads in this process once (embedded mode only; 0 threads disables)."""
    global _worker
    threads = int(settings.EMBEDDED_WORKER_THREADS)
    if not settings.EMBEDDED or threads <= 0:
        return None
    with _worker_lock:
        if _worker is None:
            _worker = dramatiq.Worker(dramatiq.get_broker(), worker_threads=threads)
            _worker.start()
            atexit.register(stop_embedded_worker)
            log.info("embedded worker started with %d threads", threads)
            _requeue_lost_messages()
    return _worker


def stop_embedded_worker() -> None:
    global _worker
    with _worker_lock:
        if _worker is not None:
            _worker.stop()
            _worker = None
    atexit.unregister(stop_embedded_worker)


def _requeue_lost_messages() -> None:
    """The StubBroker forgets its queue on restart: send what is still QUEUED again."""
    queued = Deployment.objects.filter(status=Deployment.Status.QUEUED).order_by("pk")
    for deployment in queued:
        queue.enqueue(deployment)
