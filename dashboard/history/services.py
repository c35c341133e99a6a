"""Writes for review and audit: deploy exactly the reviewed plan, redeploy a past version.

A plan run records a fingerprint of what it was made from (the blueprint snapshot and
the stage's recorded state, `engine.fingerprint`). "Deploy this plan" recomputes it from
the project and the state as they are now and refuses if they differ, so what runs is
what was reviewed. A redeploy plans a past run's snapshot (the plan names its source);
deploying that plan deploys the snapshot, not the current canvas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from dashboard.access import roles
from dashboard.access.roles import User
from dashboard.errors import ServiceError
from dashboard.projects.blueprint import blueprint_for_stage
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment
from dashboard.runs.store import DbStateStore
from provisioning import engine

STALE_PLAN = "the project or its deployed state changed since this plan: plan again"


def current_fingerprint(plan: Deployment) -> str:
    """The fingerprint a plan like this one would have if it were made now."""
    assert plan.stage is not None
    if plan.source_deployment_id:
        snapshot = plan.blueprint  # a redeploy: the past version is the point, not the canvas
    else:
        snapshot = blueprint_for_stage(plan.stage).to_dict()
    return engine.fingerprint(snapshot, DbStateStore(plan.stage).load())


def plan_is_current(plan: Deployment) -> bool:
    return bool(plan.plan_fingerprint) and plan.plan_fingerprint == current_fingerprint(plan)


def deployment_deploy_plan(*, plan: Deployment, user: User | None) -> Deployment:
    """Deploy what `plan` reviewed, or refuse with STALE_PLAN if anything moved since."""
    if plan.kind != Deployment.Kind.PLAN or plan.status != Deployment.Status.SUCCEEDED:
        raise ServiceError(f"#{plan.pk} is not a finished plan: only a reviewed plan deploys")
    if plan.stage is None:
        raise ServiceError("the stage of this plan was deleted")
    roles.require_role(project=plan.stage.project, user=user, role=roles.DEPLOY_ROLE)
    run_services.refuse_if_busy(plan.stage)
    with transaction.atomic():
        if not plan_is_current(plan):
            raise ServiceError(STALE_PLAN)
        return run_services.deployment_start(
            stage=plan.stage,
            kind=Deployment.Kind.DEPLOY,
            user=user,
            snapshot=plan.blueprint,
            audit={"from_plan": plan, "source_deployment_id": plan.source_deployment_id},
        )


def deployment_redeploy(*, source: Deployment, user: User | None) -> Deployment:
    """Plan a past run's blueprint snapshot on its stage: the first step of "redeploy this
    version" (the plan page then deploys exactly it)."""
    if source.stage is None:
        raise ServiceError("the stage of this run was deleted: there is nowhere to redeploy it")
    if not source.blueprint:
        raise ServiceError(f"#{source.pk} has no blueprint snapshot to redeploy")
    return run_services.deployment_start(
        stage=source.stage,
        kind=Deployment.Kind.PLAN,
        user=user,
        snapshot=source.blueprint,
        audit={"source_deployment": source},
    )


def plan_cost(
    plan: Deployment, assumptions: Mapping[str, Any] | None = None
) -> engine.CostEstimate:
    """The monthly estimate of a plan run, at the stage's region, with these assumptions."""
    inputs = (plan.plan or {}).get("cost_inputs") or {}
    region = str((plan.blueprint or {}).get("region") or "us-east-1")
    return engine.estimate_cost(
        inputs, region, engine.CostAssumptions.from_mapping(assumptions or {})
    )
