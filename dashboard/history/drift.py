"""Drift: refresh a stage, mark what AWS no longer matches, revert it or accept it; orphans."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from dashboard import errors
from dashboard.access import roles
from dashboard.audit import services as audit_log
from dashboard.projects import selectors as project_selectors
from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Stage
from dashboard.runs import queue
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


def stages_due(now: Any = None) -> list[Stage]:
    """Stages with a drift check every N hours whose last refresh is older than N hours."""
    now = now or timezone.now()
    due = []
    for stage in Stage.objects.filter(drift_check_hours__gt=0).select_related("project"):
        last = last_refresh(stage=stage)
        hours = timedelta(hours=int(stage.drift_check_hours or 0))
        stale = last is None or last.created_at <= now - hours
        if stale and DeployedResource.objects.filter(stage=stage).exists():
            due.append(stage)
    return due


def drift_check_due(*, enqueue: bool = True) -> list[Deployment]:
    """Start a refresh of every stage that is due (the scheduler actor and `refresh --due`)."""

    started = []
    for stage in stages_due():
        try:
            run = drift_refresh_start(stage=stage, user=None, enqueue=False)
        except errors.ServiceError:
            continue  # busy: the next tick tries again
        who = f"scheduler (every {stage.drift_check_hours} h)"
        Deployment.objects.filter(pk=run.pk).update(triggered_by_name=who)
        run.triggered_by_name = who
        if enqueue:
            queue.enqueue(run)
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
