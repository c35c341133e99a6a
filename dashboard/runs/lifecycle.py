"""A run's ends: recorded exactly once, whoever gets there first (the worker, a cancel, the sweep).

A RUNNING row whose heartbeat is older than `DEPLOYMENT_STALE_AFTER_S` belongs to a dead
worker and is failed, which releases the stage lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.access.secrets import redact
from dashboard.notifications import dispatch as notifications
from dashboard.projects.models import Stage
from dashboard.runs.models import Deployment
from dashboard.runs.progress import DbProgressSink, send_final

log = logging.getLogger(__name__)
Status = Deployment.Status


INTERRUPTED = "interrupted: worker stopped"


def heartbeat_s() -> float:
    return float(getattr(settings, "DEPLOYMENT_HEARTBEAT_S", 5))


def stale_after_s() -> float:
    return float(getattr(settings, "DEPLOYMENT_STALE_AFTER_S", 60))


# --- ending a run --------------------------------------------------------------------------
@dataclass
class Outcome:
    status: str
    error: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)


def _final_words(deployment: Deployment, outcome: Outcome) -> str:
    what = f"{deployment.kind} of {deployment.project_name}/{deployment.stage_name}"
    if outcome.status == Status.SUCCEEDED:
        summary = outcome.plan.get("summary") if deployment.kind == Deployment.Kind.PLAN else None
        if summary is not None:
            parts = [f"{n} {a.lower().replace('_', ' ')}" for a, n in sorted(summary.items())]
            return f"{what} succeeded: " + (", ".join(parts) or "nothing to do")
        return f"{what} succeeded"
    return f"{what} {outcome.status.lower()}" + (f": {outcome.error}" if outcome.error else "")


def finish(deployment: Deployment, outcome: Outcome, *, from_status: str = Status.RUNNING) -> bool:
    """Record the end exactly once (whoever flips the status writes the final event).

    The status and the final event commit together, so a reader that sees the end
    also sees every event.
    """
    with transaction.atomic():
        done = Deployment.objects.filter(pk=deployment.pk, status=from_status).update(
            status=outcome.status,
            error=redact(outcome.error),  # any secret this worker opened stays out of history
            counts=outcome.counts,
            plan=redact(outcome.plan or deployment.plan),
            finished_at=timezone.now(),
        )
        if not done:
            return False
        # Counted only now, holding the row's lock: a fenced event committed just before is seen.
        sink = DbProgressSink(deployment)
        row = sink.record(
            status=outcome.status.lower(),
            action=deployment.kind.upper(),
            message=_final_words(deployment, outcome),
            publish=False,
        )
    deployment.refresh_from_db()
    sink.publish(row)
    send_final(deployment)
    notifications.run_finished(deployment)
    return True


def cancel_queued(*, deployment_id: int, by: str) -> bool:
    deployment = Deployment.objects.filter(pk=deployment_id, status=Status.QUEUED).first()
    if deployment is None:
        return False
    return finish(
        deployment,
        Outcome(Status.CANCELLED, error=f"cancelled by {by} before it started"),
        from_status=Status.QUEUED,
    )


def fail_stale_runs(*, stage: Stage | None = None) -> int:
    """Fail RUNNING deployments whose worker stopped beating; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=stale_after_s())
    stale = Deployment.objects.filter(status=Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    if stage is not None:
        stale = stale.filter(stage=stage)
    failed = 0
    for deployment in stale:
        log.warning("deployment #%s: no heartbeat since %s", deployment.pk, deployment.heartbeat_at)
        failed += finish(deployment, Outcome(Status.FAILED, error=INTERRUPTED))
    return failed
