"""Runs: start a plan, deploy, destroy or refresh; one run, its review actions, the history;
drift and orphans. Every run records the token that started it (`triggered_by`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from dashboard.access import services as access_services
from dashboard.api.core import note_change, project_for, run_for, stage_of, user_of
from dashboard.api.schemas import DriftAcceptIn, OrphansIn, RunOut, run_out
from dashboard.history import drift as drift_services
from dashboard.history import selectors as history_selectors
from dashboard.history import services as history_services
from dashboard.runs import selectors as run_selectors
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment

router = Router(tags=["runs"])
MAX_PAGE = 100


def _start(request: HttpRequest, name: str, stage: str, kind: str, role: str) -> dict[str, Any]:
    stage_obj = stage_of(project_for(request, name, min_role=role), stage)
    run = run_services.deployment_start(stage=stage_obj, kind=kind, user=user_of(request))
    note_change(request, f"{kind} #{run.pk} of {name}/{stage} started")
    return run_out(run)


@router.post("/projects/{name}/stages/{stage}/plan", response={202: RunOut})
def stage_plan(request: HttpRequest, name: str, stage: str) -> Status[dict[str, Any]]:
    return Status(202, _start(request, name, stage, Deployment.Kind.PLAN, "deployer"))


@router.post("/projects/{name}/stages/{stage}/deploy", response={202: RunOut})
def stage_deploy(request: HttpRequest, name: str, stage: str) -> Status[dict[str, Any]]:
    """Deploy what the project is now (a protected stage needs an approved plan instead)."""
    return Status(202, _start(request, name, stage, Deployment.Kind.DEPLOY, "deployer"))


@router.post("/projects/{name}/stages/{stage}/destroy", response={202: RunOut})
def stage_destroy(request: HttpRequest, name: str, stage: str) -> Status[dict[str, Any]]:
    """Owners: delete everything the stage holds in AWS."""
    return Status(202, _start(request, name, stage, Deployment.Kind.DESTROY, "owner"))


@router.post("/projects/{name}/stages/{stage}/refresh", response={202: RunOut})
def stage_refresh(request: HttpRequest, name: str, stage: str) -> Status[dict[str, Any]]:
    """Read AWS and record what drifted and which resources are orphans."""
    stage_obj = stage_of(project_for(request, name, min_role="deployer"), stage)
    run = drift_services.drift_refresh_start(stage=stage_obj, user=user_of(request))
    note_change(request, f"refresh #{run.pk} of {name}/{stage} started")
    return Status(202, run_out(run))


# --- one run -------------------------------------------------------------------------------------
@router.get("/runs/{run_id}", response=RunOut)
def run_detail(request: HttpRequest, run_id: int) -> dict[str, Any]:
    return run_out(run_for(request, run_id))


@router.get("/runs/{run_id}/plan")
def run_plan(request: HttpRequest, run_id: int) -> dict[str, Any]:
    """What a plan run found: its changes, summary, advice and cost inputs."""
    run = run_for(request, run_id)
    return {"id": run.pk, "kind": run.kind, "status": run.status, "plan": run.plan or {}}


class CostQuery(Schema):
    requests_per_month: int | None = None


@router.get("/runs/{run_id}/cost")
def run_cost(request: HttpRequest, run_id: int, query: Query[CostQuery]) -> dict[str, Any]:
    """A plan's monthly cost estimate, with the query's assumptions."""
    run = run_for(request, run_id)
    if run.kind != Deployment.Kind.PLAN:
        raise PermissionDenied("only a plan has a cost estimate")
    assumptions = {k: v for k, v in query.dict().items() if v is not None}
    estimate = history_services.plan_cost(run, assumptions)
    return {**dataclasses.asdict(estimate), "delta": estimate.delta}


@router.post("/runs/{run_id}/cancel", response=RunOut)
def run_cancel(request: HttpRequest, run_id: int) -> dict[str, Any]:
    run = run_services.deployment_cancel(deployment=run_for(request, run_id), user=user_of(request))
    note_change(request, f"cancel of run #{run.pk} requested")
    return run_out(run)


@router.post("/runs/{run_id}/approve", response={202: RunOut})
def run_approve(request: HttpRequest, run_id: int) -> Status[dict[str, Any]]:
    """An owner other than the one who asked approves a plan of a protected stage: it deploys."""
    run = access_services.deployment_approve(plan=run_for(request, run_id), user=user_of(request))
    note_change(request, f"plan #{run_id} approved: deploy #{run.pk} started")
    return Status(202, run_out(run))


@router.post("/runs/{run_id}/deploy", response={202: RunOut})
def run_deploy_plan(request: HttpRequest, run_id: int) -> Status[dict[str, Any]]:
    """Deploy exactly this reviewed plan (refused if the project or its state moved since)."""
    plan = run_for(request, run_id)
    run = history_services.deployment_deploy_plan(plan=plan, user=user_of(request))
    note_change(request, f"deploy #{run.pk} of plan #{run_id} started")
    return Status(202, run_out(run))


@router.post("/runs/{run_id}/redeploy", response={202: RunOut})
def run_redeploy(request: HttpRequest, run_id: int) -> Status[dict[str, Any]]:
    """Plan this past run's version again: deploy that plan to restore it."""
    run = history_services.deployment_redeploy(
        source=run_for(request, run_id), user=user_of(request)
    )
    note_change(request, f"plan #{run.pk} of the version of #{run_id} started")
    return Status(202, run_out(run))


class HistoryQuery(Schema):
    stage: str | None = None
    limit: int = 20
    offset: int = 0


@router.get("/projects/{name}/runs")
def run_list(request: HttpRequest, name: str, query: Query[HistoryQuery]) -> dict[str, Any]:
    """The project's runs, newest first, `limit` (at most 100) from `offset`."""
    project = project_for(request, name)
    stage = stage_of(project, query.stage) if query.stage else None
    limit = max(1, min(MAX_PAGE, query.limit))
    offset = max(0, query.offset)
    runs = run_selectors.deployment_list(
        project=project, limit=limit + 1, offset=offset, stage=stage
    )
    more = len(runs) > limit
    return {
        "runs": [run_out(run) for run in runs[:limit]],
        "next_offset": offset + limit if more else None,
    }


# --- drift and orphans ---------------------------------------------------------------------------
@router.get("/projects/{name}/stages/{stage}/drift")
def stage_drift(request: HttpRequest, name: str, stage: str) -> dict[str, Any]:
    """What the last refresh found: drifted properties (and whether each can be accepted)
    and orphans (resources named for the stage that nothing records)."""
    stage_obj = stage_of(project_for(request, name), stage)
    last = drift_services.last_refresh(stage=stage_obj)
    deletable = drift_services.deletable_orphans(stage=stage_obj)
    drifted = [
        {
            "logical_id": row.logical_id,
            "node": row.node,
            "type": row.type,
            "properties": [
                {
                    **item,
                    "acceptable": drift_services.owner_of(row, item.get("name", "")) is not None,
                }
                for item in row.drift
            ],
        }
        for row in drift_services.stage_drift(stage=stage_obj)
    ]
    orphans = [
        {**orphan, "deletable": orphan.get("arn") in deletable}
        for orphan in drift_services.stage_orphans(stage=stage_obj)
    ]
    return {
        "last_refresh": run_out(last) if last else None,
        "drifted": drifted,
        "orphans": orphans,
        "drift_check_hours": stage_obj.drift_check_hours,
    }


@router.post("/projects/{name}/stages/{stage}/drift/accept")
def drift_accept(
    request: HttpRequest, name: str, stage: str, payload: DriftAcceptIn
) -> dict[str, str]:
    """Take AWS's live value of one drifted property into the project."""
    stage_obj = stage_of(project_for(request, name, min_role="deployer"), stage)
    done = drift_services.drift_accept(
        stage=stage_obj, logical_id=payload.logical_id, name=payload.property, user=user_of(request)
    )
    note_change(request, f"drift of {name}/{stage} accepted: {done}")
    return {"accepted": done}


@router.post("/projects/{name}/stages/{stage}/orphans/delete", response={202: RunOut})
def orphan_delete(
    request: HttpRequest, name: str, stage: str, payload: OrphansIn
) -> Status[dict[str, Any]]:
    """Owners: a sweep run deleting these orphans (or `all` that can be)."""
    stage_obj = stage_of(project_for(request, name, min_role="owner"), stage)
    arns = (
        sorted(drift_services.deletable_orphans(stage=stage_obj)) if payload.all else payload.arns
    )
    run = drift_services.orphans_sweep(stage=stage_obj, arns=arns, user=user_of(request))
    note_change(request, f"sweep #{run.pk} of {name}/{stage} started")
    return Status(202, run_out(run))


class AllRunsQuery(Schema):
    project: str | None = None
    stage: str | None = None
    status: str | None = None
    kind: str | None = None
    user: str | None = Field(None, description="As the record names them, e.g. alice.")
    since: str | None = Field(None, description="YYYY-MM-DD")
    until: str | None = Field(None, description="YYYY-MM-DD")
    older_than: str | None = Field(None, description="The `older` cursor of the page before.")
    size: int = 25


@router.get("/runs")
def run_history(request: HttpRequest, query: Query[AllRunsQuery]) -> dict[str, Any]:
    """Every run the token may see, across projects, newest first, in cursor pages."""
    user = user_of(request)
    project = project_for(request, query.project) if query.project else None
    raw = query.dict(exclude={"project", "older_than", "size"})
    page = history_selectors.history_page(
        user=user,
        project=project,
        filters=history_selectors.clean_filters(raw),
        older_than=query.older_than,
        size=max(1, min(MAX_PAGE, query.size)),
    )
    return {"runs": [run_out(run) for run in page.runs], "older": page.older}
