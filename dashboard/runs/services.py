"""Starting and cancelling runs: one run at a time per stage, enqueued once its row is committed."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from dashboard.access.models import Membership
from dashboard.access.roles import (
    DEPLOY_ROLE,
    User,
    acting_token,
    require_role,
    started_by,
)
from dashboard.audit import services as audit_log
from dashboard.errors import ServiceError
from dashboard.notifications import dispatch as notifications
from dashboard.projects.blueprint import blueprint_for_stage
from dashboard.projects.models import Stage
from dashboard.runs import execution, lifecycle, queue
from dashboard.runs.models import Deployment
from provisioning import engine
from provisioning.model.blueprint import Blueprint

OWNER_KINDS = frozenset({Deployment.Kind.DESTROY, Deployment.Kind.SWEEP})
"""Runs that delete from AWS: owners only, and never on a protected stage."""


class StageBusy(ServiceError):
    def __init__(self, message: str, active: Deployment | None = None) -> None:
        super().__init__(message)
        self.active = active
        """The run that holds the stage, where the refused user wants to go."""


class BlueprintInvalid(ServiceError):
    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        text = "; ".join(
            f"{node}.{fld}: {msg}" if fld else f"{node}: {msg}" for node, fld, msg in problems
        )
        super().__init__(f"the blueprint has problems to fix first: {text}")


class BlockingAdvice(ServiceError):
    """What the plan page lists as blocking: settings AWS refuses or that cannot exist."""

    def __init__(self, advice: list[engine.Advice]) -> None:
        self.advice = advice
        text = "; ".join(
            f"{a.node}{'.' + a.field if a.field else ''}: {a.message} (fix: {a.fix})"
            for a in advice
        )
        super().__init__(f"the project has blocking advice to fix before it deploys: {text}")


# --- deployments -----------------------------------------------------------------------------
def check_protection(*, stage: Stage, kind: str, audit: dict[str, Any] | None) -> None:
    """What a protected stage refuses."""
    if not stage.protected:
        return
    if kind in OWNER_KINDS:
        raise ServiceError(
            f"{stage} is protected: an owner must turn protection off before anything in it "
            "can be deleted"
        )
    if kind == Deployment.Kind.DEPLOY and not (audit or {}).get("approved_by"):
        raise ServiceError(
            f"{stage} is protected: run a plan, then an owner other than you approves it "
            "on the plan's page"
        )


def deployment_start(
    *,
    stage: Stage,
    kind: str,
    user: User | None,
    enqueue: bool = True,
    snapshot: dict[str, Any] | None = None,
    audit: dict[str, Any] | None = None,
    orphans: list[dict[str, Any]] | None = None,
) -> Deployment:
    """Snapshot the blueprint, take the stage lock and queue the run once this commits.

    `enqueue=False` is for the embedded CLI, which runs the work in its own process.
    The message is sent when the transaction commits (the caller's, if it holds one); if
    the broker refuses it, the run is ended FAILED there and `queue.QueueUnavailable`
    propagates from that commit, for the caller to report (a 503 for web requests).
    `snapshot` (a past run's blueprint) and `audit` (from_plan, source_deployment) serve
    "deploy this plan" and "redeploy this version" (dashboard/history/services.py);
    `orphans` (as the last refresh listed them) are what a sweep deletes.
    """
    needed = Membership.Role.OWNER if kind in OWNER_KINDS else DEPLOY_ROLE
    require_role(project=stage.project, user=user, role=needed)
    if kind not in Deployment.Kind.values:
        raise ServiceError(f"unknown kind of run {kind!r}", field="kind")
    check_protection(stage=stage, kind=kind, audit=audit)
    lifecycle.fail_stale_runs(stage=stage)
    blueprint = Blueprint.from_dict(snapshot) if snapshot else blueprint_for_stage(stage)
    if kind == Deployment.Kind.DEPLOY:
        problems = execution.validate_blueprint(blueprint)
        if problems:
            raise BlueprintInvalid(problems)
        # Every deploy passes here (the plan page, approvals, the API, the CLI): none skips it.
        blocking = [a for a in engine.advise(blueprint) if a.blocking]
        if blocking:
            raise BlockingAdvice(blocking)
    triggered_by, name = started_by(user)
    with transaction.atomic():
        try:
            with transaction.atomic():
                deployment = Deployment.objects.create(
                    stage=stage,
                    project=stage.project,
                    project_name=stage.project.name,
                    stage_name=stage.name,
                    kind=kind,
                    triggered_by=triggered_by,
                    triggered_by_name=name,
                    token=acting_token(user),
                    blueprint=blueprint.to_dict(),
                    plan={"orphans": orphans} if orphans else {},
                    **(audit or {}),
                )
        except IntegrityError:
            raise _stage_busy(stage) from None
        audit_log.entry_for_run(deployment=deployment, user=user)
        if enqueue:
            transaction.on_commit(lambda: queue.enqueue(deployment))
        notifications.run_started(deployment)
    return deployment


def _stage_busy(stage: Stage) -> StageBusy:
    active = _active_run(stage)
    which = (
        f"{active.kind} of {stage} is already queued or running (#{active.pk})"
        if active
        else (f"deploy or destroy of {stage} is already queued or running")
    )
    return StageBusy(f"a {which}", active)


def _active_run(stage: Stage) -> Deployment | None:
    return Deployment.objects.filter(
        stage=stage, status__in=Deployment.ACTIVE, kind__in=["deploy", "destroy"]
    ).first()


def refuse_if_busy(stage: Stage) -> None:
    """Raise StageBusy while a deploy or destroy holds the stage: said before anything else
    (a plan gone stale *because* of that run), so the user is sent to the run."""
    lifecycle.fail_stale_runs(stage=stage)
    if _active_run(stage) is not None:
        raise _stage_busy(stage)


@transaction.atomic
def deployment_cancel(*, deployment: Deployment, user: User | None) -> Deployment:
    """Queued: cancelled at once. Running: the engine stops starting work and winds down."""
    if deployment.stage is not None:
        require_role(project=deployment.stage.project, user=user, role=DEPLOY_ROLE)
    _, name = started_by(user)
    audit_log.entry_record(
        action="run.cancel",
        user=user,
        project=deployment.project,
        target=deployment.stage_name,
        changes={"run": deployment.pk},
    )
    if lifecycle.cancel_queued(deployment_id=deployment.pk, by=name):
        deployment.refresh_from_db()
        return deployment
    updated = Deployment.objects.filter(pk=deployment.pk, status=Deployment.Status.RUNNING).update(
        cancel_requested=True
    )
    deployment.refresh_from_db()
    if not updated:
        raise ServiceError(f"#{deployment.pk} already finished ({deployment.status.lower()})")
    return deployment
