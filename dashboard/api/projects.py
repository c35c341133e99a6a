"""Projects and their stages: list, create, read, delete; stage settings and status."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Router, Status

from dashboard.access import credentials
from dashboard.access import services as access_services
from dashboard.access.roles import DeployTokenUser, acting_name, acting_token
from dashboard.api.core import note_change, project_for, stage_of, user_of
from dashboard.api.schemas import (
    ProjectIn,
    ProjectOut,
    RunOut,
    StageOut,
    StagePatch,
    project_out,
    run_out,
    stage_out,
)
from dashboard.history import drift as drift_services
from dashboard.projects import selectors as project_selectors
from dashboard.projects import services as project_services
from dashboard.runs import selectors as run_selectors

router = Router(tags=["projects"])


@router.get("/projects", response=list[ProjectOut])
def project_list(request: HttpRequest) -> list[dict[str, Any]]:
    projects = project_selectors.project_list_for_user(user=user_of(request)).order_by("name")
    return [project_out(project) for project in projects.prefetch_related("stages")]


@router.post("/projects", response={201: ProjectOut})
def project_create(request: HttpRequest, payload: ProjectIn) -> Status[dict[str, Any]]:
    user = user_of(request)
    token = acting_token(user)
    if isinstance(user, DeployTokenUser) or (token is not None and token.role == "viewer"):
        raise PermissionDenied("projects are created with a personal token that may edit")
    project = project_services.project_create(
        name=payload.name, description=payload.description, user=user
    )
    note_change(request, f"project {project.name} created")
    return Status(201, project_out(project))


@router.get("/projects/{name}", response=ProjectOut)
def project_detail(request: HttpRequest, name: str) -> dict[str, Any]:
    return project_out(project_for(request, name))


@router.delete("/projects/{name}", response={204: None})
def project_delete(request: HttpRequest, name: str) -> Status[None]:
    project = project_for(request, name, min_role="owner")
    project_services.project_delete(project=project, user=user_of(request))
    note_change(request, f"project {name} deleted")
    return Status(204, None)


# --- stages ------------------------------------------------------------------------------------
@router.get("/projects/{name}/stages", response=list[StageOut])
def stage_list(request: HttpRequest, name: str) -> list[dict[str, Any]]:
    project = project_for(request, name)
    return [stage_out(stage) for stage in project.stages.all()]


@router.get("/projects/{name}/stages/{stage}", response=StageOut)
def stage_detail(request: HttpRequest, name: str, stage: str) -> dict[str, Any]:
    return stage_out(stage_of(project_for(request, name), stage))


@router.patch("/projects/{name}/stages/{stage}", response=StageOut)
def stage_update(
    request: HttpRequest, name: str, stage: str, payload: StagePatch
) -> dict[str, Any]:
    """Owners: the stage's target, region, role, protection, boundary, keys and drift check."""
    project = project_for(request, name, min_role="owner")
    stage_obj = stage_of(project, stage)
    data = payload.dict(exclude_unset=True)
    hours = data.pop("drift_check_hours", ...)
    user = user_of(request)
    if data:
        stage_obj = access_services.stage_update(stage=stage_obj, user=user, data=data)
    if hours is not ...:
        drift_services.drift_schedule(stage=stage_obj, hours=hours or None, user=user)
    note_change(request, f"stage {project.name}/{stage} settings changed")
    stage_obj.refresh_from_db()
    return stage_out(stage_obj)


@router.get("/projects/{name}/stages/{stage}/status")
def stage_status(request: HttpRequest, name: str, stage: str) -> dict[str, Any]:
    """The last run, what the stage holds in AWS, and every route of its HTTP APIs: method,
    URL, auth mode and a curl example."""
    stage_obj = stage_of(project_for(request, name), stage)
    resources = list(project_selectors.stage_resources(stage=stage_obj))
    last = stage_obj.deployments.first()
    active = run_selectors.deployment_active(stage=stage_obj)
    return {
        "stage": stage_obj.name,
        "last_run": RunOut(**run_out(last)).dict() if last else None,
        "active_run": active.pk if active else None,
        "resources": len(resources),
        "drifted": len(drift_services.stage_drift(stage=stage_obj)),
        "endpoints": [e.as_dict() for e in run_selectors.stage_endpoints(stage=stage_obj)],
    }


@router.post("/projects/{name}/stages/{stage}/check-access")
def stage_check_access(request: HttpRequest, name: str, stage: str) -> dict[str, Any]:
    """Owners: whom deploys of this stage would act as in AWS (STS GetCallerIdentity)."""
    stage_obj = stage_of(project_for(request, name, min_role="owner"), stage)
    identity = credentials.check_access(stage_obj, who=acting_name(user_of(request)))
    return dataclasses.asdict(identity)
