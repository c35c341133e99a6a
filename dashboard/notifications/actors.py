"""The delivery actor: takes a delivery id, tries it once, and sends itself again later when
the try failed and another may help. dramatiq's own retries are off (`max_retries=0`): the
bound and the backoff are the service's, so every try is recorded in the channel's log.
Declared on the broker `dashboard.runs.actors` sets up (django_dramatiq's, from settings)."""

from __future__ import annotations

import dramatiq

from dashboard.notifications import dispatch, services


@dramatiq.actor(actor_name=dispatch.ACTOR, max_retries=0, queue_name=dispatch.QUEUE)
def notification_deliver(delivery_id: int) -> None:
    wait_s = services.delivery_attempt(delivery_id=delivery_id)
    if wait_s is not None:
        dispatch.enqueue(delivery_id, delay_ms=int(wait_s * 1000))
