"""The engine's `ProgressSink`: each event becomes a `DeploymentEvent` row, then a live message.

The row is written first, so a browser that connects late finds it in the replay; the
live message carries the same JSON (`DeploymentEvent.as_message`). Only one run of a
deployment ever writes (the QUEUED -> RUNNING fence), so `seq` is counted here.
"""

from __future__ import annotations

import threading

from django.db.models import Max
from django.utils import timezone

from dashboard.access.secrets import redact
from dashboard.runs import live
from dashboard.runs.models import Deployment, DeploymentEvent
from provisioning.events import Event

EVENT_MESSAGE = "deployment.event"
FINAL_MESSAGE = "deployment.finished"


class DbProgressSink:
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self._lock = threading.Lock()
        last = DeploymentEvent.objects.filter(deployment=deployment).aggregate(m=Max("seq"))["m"]
        self._seq = last or 0

    def emit(self, event: Event) -> None:
        self.record(
            status=str(event.status),
            resource=event.resource,
            resource_type=event.resource_type or "",
            action=event.action,
            message=event.message,
            elapsed_ms=event.elapsed_ms,
        )

    def record(
        self,
        *,
        status: str,
        message: str = "",
        resource: str | None = None,
        resource_type: str = "",
        action: str = "",
        elapsed_ms: int | None = None,
        publish: bool = True,
    ) -> DeploymentEvent:
        """Write one event; deployment-level ones (resource None) may use any status word."""
        message = redact(message)  # any secret this worker opened never reaches history
        with self._lock:
            self._seq += 1
            row = DeploymentEvent.objects.create(
                deployment=self.deployment,
                seq=self._seq,
                at=timezone.now(),
                resource=resource,
                type=resource_type,
                action=action,
                status=status,
                message=message,
                elapsed_ms=max(0, elapsed_ms) if elapsed_ms is not None else None,
            )
            if publish:
                self.publish(row)
        return row

    def publish(self, row: DeploymentEvent) -> None:
        """Send a committed row live (`record(publish=False)` inside a transaction, then this)."""
        live.group_send(
            live.group_name(self.deployment.pk), {"type": EVENT_MESSAGE, "event": row.as_message()}
        )


def final_message(deployment: Deployment, last_seq: int) -> dict[str, object]:
    """The last websocket message of a run; see dashboard/runs/consumers.py for its shape."""
    return {
        "type": "deployment",
        "deployment": deployment.pk,
        "kind": deployment.kind,
        "status": deployment.status,
        "counts": dict(deployment.counts or {}),
        "summary": dict((deployment.plan or {}).get("summary", {})),
        "error": deployment.error,
        "duration_s": deployment.duration_s,
        "finished_at": (
            deployment.finished_at.isoformat().replace("+00:00", "Z")
            if deployment.finished_at
            else None
        ),
        "last_seq": last_seq,
    }


def send_final(deployment: Deployment) -> None:
    last = DeploymentEvent.objects.filter(deployment=deployment).aggregate(m=Max("seq"))["m"] or 0
    live.group_send(
        live.group_name(deployment.pk),
        {"type": FINAL_MESSAGE, "final": final_message(deployment, last)},
    )
