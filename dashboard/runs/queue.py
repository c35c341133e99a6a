"""Handing a run to the workers: one message per run, addressed to its actor by name.

Addressing by name keeps this module below the actors: an actor may start runs itself (the
drift scheduler does) without an import cycle. Each run kind has an actor of the same name
in `dashboard.runs.actors`. A message the broker refuses ends the run at once: a QUEUED row
that no message will ever claim would hold the stage until someone cancels it by hand.
"""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.errors import BrokerError
from redis.exceptions import RedisError

from dashboard.runs.lifecycle import Outcome, finish
from dashboard.runs.models import Deployment

log = logging.getLogger(__name__)
QUEUE = "deployments"
QUEUE_DOWN = "the task queue is unavailable"
BROKER_ERRORS = (BrokerError, RedisError)
"""What a broker raises when it cannot take a message (dramatiq wraps some, Redis not)."""


class QueueUnavailable(Exception):
    """The broker refused a run's message; the run has already been ended FAILED."""

    def __init__(self, message: str, deployment_id: int) -> None:
        super().__init__(message)
        self.message = message
        self.deployment_id = deployment_id


def enqueue(deployment: Deployment) -> None:
    broker = dramatiq.get_broker()
    message = dramatiq.Message(
        queue_name=QUEUE,
        actor_name=str(deployment.kind),
        args=(deployment.pk,),
        kwargs={},
        options={},
    )
    try:
        broker.declare_queue(QUEUE)  # idempotent; a process that never imported the actors
        broker.enqueue(message)
    except BROKER_ERRORS as exc:
        # Should Redis have taken the message after all (a lost reply), its worker finds
        # the run no longer QUEUED and leaves it: failing here is always safe.
        reason = f"{QUEUE_DOWN}: {exc}. Nothing was started; try again when it is back"
        log.error("deployment #%s not queued: %s", deployment.pk, exc)
        finish(
            deployment,
            Outcome(Deployment.Status.FAILED, error=reason),
            from_status=Deployment.Status.QUEUED,
        )
        raise QueueUnavailable(reason, deployment.pk) from exc
