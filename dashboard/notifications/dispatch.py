"""Where events happen, one call hands them here: each channel subscribed to the event gets a
Delivery row, and a message to the `notification_deliver` actor once the row is committed.

The message is addressed by the actor's name (as dashboard/runs/queue.py does), so the run
machinery can call in without importing the actors above it. Telling people must never stand
in the way of the work itself: a failure here is logged, never raised to the run or request.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from django.db import transaction

from dashboard.access.secrets import redact
from dashboard.notifications.models import Channel, Delivery, Event
from dashboard.projects.models import Project
from dashboard.runs.models import Deployment

log = logging.getLogger(__name__)
QUEUE = "notifications"
ACTOR = "notification_deliver"
RUN_KINDS = frozenset({Deployment.Kind.DEPLOY, Deployment.Kind.DESTROY, Deployment.Kind.SWEEP})
"""Runs that change AWS. Plans and refreshes are reads: their news is an approval to give
or drift found, each an event of its own."""
DRIFTED = frozenset({"drifted", "missing"})


def notify(*, project: Project, event: str, text: str, data: dict[str, Any]) -> list[Delivery]:
    """Queue `event` for every channel of `project` that subscribed to it."""
    try:
        return _notify(project, event, text, data)
    except Exception:
        log.exception("notifications for %s of %s were not queued", event, project.name)
        return []


def _notify(project: Project, event: str, text: str, data: dict[str, Any]) -> list[Delivery]:
    payload = redact({"event": event, "project": project.name, "text": text, "data": data})
    channels = [c for c in Channel.objects.filter(project=project) if event in (c.events or [])]
    return [deliver(channel=channel, event=event, payload=payload) for channel in channels]


def deliver(*, channel: Channel, event: str, payload: dict[str, Any]) -> Delivery:
    delivery = Delivery.objects.create(channel=channel, event=event, payload=payload)
    transaction.on_commit(lambda: enqueue(delivery.pk))
    return delivery


def enqueue(delivery_id: int, *, delay_ms: int | None = None) -> None:
    broker = dramatiq.get_broker()
    message = dramatiq.Message(
        queue_name=QUEUE, actor_name=ACTOR, args=(delivery_id,), kwargs={}, options={}
    )
    try:
        broker.declare_queue(QUEUE)  # idempotent; a process that never imported the actors
        broker.enqueue(message, delay=delay_ms)
    except Exception:
        # The row stays PENDING: the log shows it never left.
        log.exception("notification delivery #%s not queued", delivery_id)


# --- the events ------------------------------------------------------------------------------
def _run_data(run: Deployment) -> dict[str, Any]:
    return {
        "run": run.pk,
        "kind": str(run.kind),
        "stage": run.stage_name,
        "status": str(run.status),
        "by": run.triggered_by_name,
        "error": run.error,
    }


def run_started(run: Deployment) -> None:
    if run.kind in RUN_KINDS and run.project is not None:
        text = (
            f"{run.kind} of {run.project_name}/{run.stage_name} started by {run.triggered_by_name}"
        )
        notify(project=run.project, event=Event.RUN_STARTED, text=text, data=_run_data(run))


def run_finished(run: Deployment) -> None:
    """A run's end: succeeded or failed; a plan awaiting approval; a refresh that found drift."""
    if run.project is None:
        return
    what = f"{run.kind} of {run.project_name}/{run.stage_name}"
    data = _run_data(run)
    if run.kind in RUN_KINDS and run.status in (
        Deployment.Status.SUCCEEDED,
        Deployment.Status.FAILED,
    ):
        event = (
            Event.RUN_SUCCEEDED if run.status == Deployment.Status.SUCCEEDED else Event.RUN_FAILED
        )
        error = f": {run.error}" if run.error else ""
        text = f"{what} {str(run.status).lower()}{error}"
        notify(project=run.project, event=event, text=text, data=data)
    elif run.kind == Deployment.Kind.PLAN and _awaits_approval(run):
        text = f"a plan of {run.project_name}/{run.stage_name} awaits an owner's approval"
        notify(project=run.project, event=Event.APPROVAL_REQUESTED, text=text, data=data)
    elif run.kind == Deployment.Kind.REFRESH:
        drifted = [d for d in (run.plan or {}).get("drift") or [] if d.get("status") in DRIFTED]
        if drifted:
            names = ", ".join(str(d.get("logical_id")) for d in drifted[:10])
            text = f"drift in {run.project_name}/{run.stage_name}: {names}"
            data["resources"] = [
                {"logical_id": d.get("logical_id"), "status": d.get("status")} for d in drifted
            ]
            notify(project=run.project, event=Event.DRIFT_FOUND, text=text, data=data)


def _awaits_approval(run: Deployment) -> bool:
    return (
        run.status == Deployment.Status.SUCCEEDED and run.stage is not None and run.stage.protected
    )


def approval_given(deploy: Deployment) -> None:
    """`deploy` is the run an approval started (its `from_plan` is the approved plan)."""
    if deploy.project is None:
        return
    text = (
        f"{deploy.approved_by_name} approved plan #{deploy.from_plan_id} of "
        f"{deploy.project_name}/{deploy.stage_name}: deploy #{deploy.pk} started"
    )
    data = {
        **_run_data(deploy),
        "plan": deploy.from_plan_id,
        "approved_by": deploy.approved_by_name,
    }
    notify(project=deploy.project, event=Event.APPROVAL_GIVEN, text=text, data=data)


def alarm_state_changed(
    *, project: Project, stage: str, alarm: str, state: str, reason: str
) -> None:
    """An alarm's state changed (the scheduler's alarm watch: dashboard/observe/alarm_watch.py)."""
    text = f"alarm {alarm} of {project.name}/{stage} is now {state}: {reason}"
    data = {"stage": stage, "alarm": alarm, "state": state, "reason": reason}
    notify(project=project, event=Event.ALARM_STATE_CHANGED, text=text, data=data)
