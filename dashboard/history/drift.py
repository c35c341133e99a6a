"""Drift: refresh a stage, mark what AWS no longer matches, revert it or accept it; orphans."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from dashboard import errors
from dashboard.access import roles
from dashboard.audit import services as audit_log
from dashboard.projects import selectors as project_selectors
from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Stage
from dashboard.runs import services as run_services
from dashboard.runs.models import DeployedResource, Deployment, DeploymentEvent
from provisioning import engine


# --- reads ---------------------------------------------------------------------------------
def stage_drift(*, stage: Stage) -> list[DeployedResource]:
    return [
        r for r in DeployedResource.objects.filter(stage=stage).order_by("logical_id") if r.drift
    ]


def drifted_nodes(*, stage: Stage) -> set[str]:
    """Node keys ("agent:support") with at least one drifted resource: for the canvas."""
    return {r.node for r in stage_drift(stage=stage) if r.node}


def last_refresh(*, stage: Stage) -> Deployment | None:
    return (
        Deployment.objects.filter(stage=stage, kind=Deployment.Kind.REFRESH)
        .defer("blueprint")
        .order_by("-created_at", "-id")
        .first()
    )


def stage_orphans(*, stage: Stage) -> list[dict[str, Any]]:
    """Orphans the last successful refresh found (for this stage, or untagged by stage)."""
    refresh = (
        Deployment.objects.filter(
            stage=stage, kind=Deployment.Kind.REFRESH, status=Deployment.Status.SUCCEEDED
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if refresh is None:
        return []
    orphans = (refresh.plan or {}).get("orphans") or []
    swept = _swept_since(stage, refresh)
    return [o for o in orphans if o.get("stage") in ("", stage.name) and o.get("arn") not in swept]


def _swept_since(stage: Stage, refresh: Deployment) -> set[str]:
    """ARNs a sweep deleted after that refresh (its succeeded events carry the ARN)."""
    sweeps = Deployment.objects.filter(
        stage=stage, kind=Deployment.Kind.SWEEP, created_at__gt=refresh.created_at
    )
    return set(
        DeploymentEvent.objects.filter(
            deployment__in=sweeps, status="succeeded", resource__isnull=False
        ).values_list("message", flat=True)
    )


def deletable_orphans(*, stage: Stage) -> set[str]:
    """The ARNs of the listed orphans a sweep can delete (the rest need the AWS console)."""
    return {
        str(o["arn"])
        for o in stage_orphans(stage=stage)
        if engine.deletable(engine.Orphan(arn=str(o["arn"]), service=o["service"], name=o["name"]))
    }


# --- accept a live value -----------------------------------------------------------------------
@dataclass(frozen=True)
class Owner:
    """Where the project keeps a property: an agent field or a component setting."""

    kind: str  # "agent" or "component"
    field: str
    convert: Callable[[Any, DeployedResource, Any], Any] = lambda live, _row, _node: live


def _user_environment(live: Any, row: DeployedResource, node: Any) -> dict[str, str]:
    # The engine adds link variables (TABLE_NOTES=...) of its own: keep only the user's.
    recorded = dict(row.properties.get("environment") or {})
    generated = set(recorded) - set(node.environment or {})
    return {k: str(v) for k, v in dict(live or {}).items() if k not in generated}


AGENT_OWNED = {
    name: Owner("agent", name)
    for name in ("memory_mb", "timeout_s", "reserved_concurrency", "runtime", "architecture")
}


AGENT_OWNED["environment"] = Owner("agent", "environment", _user_environment)


AGENT_OWNED["tracing"] = Owner("agent", "tracing", lambda live, _r, _n: live == "Active")


OWNED: dict[str, dict[str, Owner]] = {
    "lambda:function": AGENT_OWNED,
    "sqs:queue": {
        name: Owner("component", name)
        for name in (
            "visibility_timeout_s",
            "message_retention_s",
            "receive_wait_time_s",
            "delay_s",
            "content_based_deduplication",
        )
    },
    "s3:bucket": {"versioning": Owner("component", "versioning")},
    "dynamodb:table": {
        name: Owner("component", name)
        for name in ("billing_mode", "read_capacity", "write_capacity", "point_in_time_recovery")
    },
    "lambda:event-source-mapping": {"batch_size": Owner("component", "batch_size")},
}


def owner_of(row: DeployedResource, name: str) -> Owner | None:
    if row.type == "sqs:queue" and row.logical_id.endswith("/dlq"):
        return None  # the dead-letter queue's settings are the tool's, not the user's
    return OWNED.get(row.type, {}).get(name)


def refusal(row: DeployedResource, name: str) -> str:
    return (
        f"{name} of {row.logical_id} is set by Strands Deploy from the project, not a setting "
        "you own: revert it instead"
    )


def drift_accept(*, stage: Stage, logical_id: str, name: str, user: Any) -> str:
    """Take AWS's value of one drifted property into the project; returns what changed."""

    row = DeployedResource.objects.filter(stage=stage, logical_id=logical_id).first()
    item = next((d for d in (row.drift if row else []) if d.get("name") == name), None)
    if row is None or item is None:
        raise errors.ServiceError(f"{logical_id} has no drift in {name!r} (refresh again?)")
    owner = owner_of(row, name)
    node = project_selectors.node_by_key(project=stage.project, key=row.node or "")
    if owner is None or node is None or (owner.kind == "agent") != isinstance(node, Agent):
        raise errors.ServiceError(refusal(row, name))
    value = owner.convert(item["live"], row, node)
    with transaction.atomic():
        if isinstance(node, Agent):
            project_services.agent_update(agent=node, user=user, data={owner.field: value})
        else:
            project_services.component_update(
                component=node, user=user, name=node.name, settings={owner.field: value}
            )
        _take_into_state(row, name, item["live"])
    return f"{node}: {owner.field} is now {value!r}"


def _take_into_state(row: DeployedResource, name: str, live: Any) -> None:
    properties = {**row.properties, name: live}
    remaining = [d for d in row.drift if d.get("name") != name]
    DeployedResource.objects.filter(pk=row.pk).update(
        properties=properties, properties_hash=engine.properties_hash(properties), drift=remaining
    )


# --- start a refresh; the periodic check -------------------------------------------------------
def drift_refresh_start(*, stage: Stage, user: Any, enqueue: bool = True) -> Deployment:

    active = Deployment.objects.filter(
        stage=stage, status__in=Deployment.ACTIVE, kind__in=["deploy", "destroy", "refresh"]
    ).first()
    if active is not None:
        raise run_services.StageBusy(f"a {active.kind} of {stage} is in progress (#{active.pk})")
    return run_services.deployment_start(stage=stage, kind="refresh", user=user, enqueue=enqueue)


def drift_due_slot(*, stage: Stage, now: datetime) -> str | None:
    """When this stage's periodic check came due ("first" if it was never refreshed), or None
    when it is not due: off, nothing deployed to compare, or refreshed within its N hours.

    The slot is the same on every scheduler that looks, so it names the job for the lease.
    """
    hours = int(stage.drift_check_hours or 0)
    if hours <= 0 or not DeployedResource.objects.filter(stage=stage).exists():
        return None
    last = last_refresh(stage=stage)
    if last is None:
        return "first"
    due_at = last.created_at + timedelta(hours=hours)
    return due_at.isoformat() if due_at <= now else None


def stages_due(now: datetime | None = None) -> list[tuple[Stage, str]]:
    """Every stage whose periodic drift check is due, with the slot it came due in."""
    now = now or timezone.now()
    due = []
    for stage in Stage.objects.filter(drift_check_hours__gt=0).select_related("project"):
        slot = drift_due_slot(stage=stage, now=now)
        if slot is not None:
            due.append((stage, slot))
    return due


def drift_check_start_if_due(
    *, stage_id: int, now: datetime | None = None, enqueue: bool = True
) -> Deployment | None:
    """Start the periodic refresh of a stage if it is still due: the scheduler's job.

    Asked again under the stage's row lock, so a job delivered twice (or by two schedulers
    whose lease was lost) starts one refresh: the second finds the first's run as the last
    refresh and the stage not due. None when not due, gone, or busy (offered again later).
    """
    with transaction.atomic():
        stage = (
            Stage.objects.select_for_update().select_related("project").filter(pk=stage_id).first()
        )
        if stage is None or drift_due_slot(stage=stage, now=now or timezone.now()) is None:
            return None
        try:
            run = drift_refresh_start(stage=stage, user=None, enqueue=enqueue)
        except errors.ServiceError:
            return None  # a deploy or refresh holds the stage: the scheduler offers it again
        who = f"scheduler (every {stage.drift_check_hours} h)"
        Deployment.objects.filter(pk=run.pk).update(triggered_by_name=who)
        run.triggered_by_name = who
    return run


def drift_check_due(*, enqueue: bool = True) -> list[Deployment]:
    """Start the refresh of every stage that is due, here and now (`refresh --due`, for cron)."""
    started = []
    for stage, _slot in stages_due():
        run = drift_check_start_if_due(stage_id=stage.pk, enqueue=enqueue)
        if run is not None:
            started.append(run)
    return started


# --- orphans and the schedule ------------------------------------------------------------------
def orphans_sweep(*, stage: Stage, arns: Iterable[str], user: Any) -> Deployment:
    """Start a sweep that deletes these orphans of the last refresh (owners only): a run of
    its own, with an event per orphan, so the history shows what left AWS and who asked."""
    wanted = list(dict.fromkeys(arn for arn in arns if arn))
    if not wanted:
        raise errors.ServiceError("choose an orphan to delete")
    listed = {str(o.get("arn")): o for o in stage_orphans(stage=stage)}
    for arn in wanted:
        found = listed.get(arn)
        if found is None:
            raise errors.ServiceError(f"{arn} is not among the orphans found: refresh again")
        orphan = engine.Orphan(arn=arn, service=found["service"], name=found["name"])
        if not engine.deletable(orphan):
            raise errors.ServiceError(f"{arn} cannot be deleted from here: use the AWS console")
    return run_services.deployment_start(
        stage=stage,
        kind=Deployment.Kind.SWEEP,
        user=user,
        orphans=[listed[arn] for arn in wanted],
    )


@transaction.atomic
def drift_schedule(*, stage: Stage, hours: int | None, user: Any) -> Stage:

    roles.require_role(project=stage.project, user=user, role="owner")
    if hours is not None and not 1 <= hours <= 720:
        raise errors.ServiceError("every 1 to 720 hours, or empty for off", field="hours")
    audit_log.entry_record(
        action="stage.update",
        user=user,
        project=stage.project,
        target=stage.name,
        changes={"drift_check_hours": {"before": stage.drift_check_hours, "after": hours}},
    )
    Stage.objects.filter(pk=stage.pk).update(drift_check_hours=hours)
    stage.drift_check_hours = hours
    return stage
