"""A stage's drift page: refresh, what drifted (revert or accept), orphans, the periodic check."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from dashboard.errors import ServiceError
from dashboard.history import drift as drift_services
from dashboard.projects.models import Project, Stage
from dashboard.web.helpers import banner_service_error, project_or_404, render_page, role_at_least


def _stage(project: Project, name: str) -> Stage:
    return get_object_or_404(project.stages, name=name)


def _rows(stage: Stage) -> list[dict[str, Any]]:
    rows = []
    for resource in drift_services.stage_drift(stage=stage):
        props = []
        for item in resource.drift:
            owner = drift_services.owner_of(resource, item.get("name", ""))
            props.append({**item, "acceptable": owner is not None})
        rows.append({"resource": resource, "properties": props})
    return rows


@login_required
def stage_drift(request: HttpRequest, name: str, stage: str) -> HttpResponse:
    project, role = project_or_404(request, name)
    stage_obj = _stage(project, stage)
    context = {
        "project": project,
        "stage": stage_obj,
        "role": role,
        "can_deploy": role_at_least(role, "deployer"),
        "can_own": role_at_least(role, "owner"),
        "rows": _rows(stage_obj),
        "last_refresh": drift_services.last_refresh(stage=stage_obj),
        "orphans": drift_services.stage_orphans(stage=stage_obj),
        "deletable": drift_services.deletable_orphans(stage=stage_obj),
    }
    return render_page(request, "history/drift.html", context, "drift")


def _back(name: str, stage: str) -> HttpResponse:
    return redirect("stage_drift", name=name, stage=stage)


@login_required
@require_POST
def stage_refresh(request: HttpRequest, name: str, stage: str) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="deployer")
    try:
        run = drift_services.drift_refresh_start(stage=_stage(project, stage), user=request.user)
    except ServiceError as exc:
        banner_service_error(request, exc)
        return _back(name, stage)
    return redirect("deployment_detail", deployment_id=run.pk)


@login_required
@require_POST
def drift_accept(request: HttpRequest, name: str, stage: str) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="deployer")
    try:
        done = drift_services.drift_accept(
            stage=_stage(project, stage),
            logical_id=request.POST.get("logical_id", ""),
            name=request.POST.get("property", ""),
            user=request.user,
        )
    except ServiceError as exc:
        banner_service_error(request, exc)
    else:
        messages.success(request, f"Accepted the live value: {done}.")
    return _back(name, stage)


@login_required
@require_POST
def orphan_delete(request: HttpRequest, name: str, stage: str) -> HttpResponse:
    """Delete one orphan (`arn`) or every deletable one (`all`): a sweep run, shown live."""
    project, _role = project_or_404(request, name, min_role="owner")
    stage_obj = _stage(project, stage)
    if request.POST.get("all"):
        arns = sorted(drift_services.deletable_orphans(stage=stage_obj))
    else:
        arns = [request.POST.get("arn", "")]
    try:
        run = drift_services.orphans_sweep(stage=stage_obj, arns=arns, user=request.user)
    except ServiceError as exc:
        banner_service_error(request, exc)
        return _back(name, stage)
    return redirect("deployment_detail", run.pk)


@login_required
@require_POST
def drift_schedule(request: HttpRequest, name: str, stage: str) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="owner")
    raw = request.POST.get("hours", "").strip()
    try:
        hours = int(raw) if raw else None
        drift_services.drift_schedule(stage=_stage(project, stage), hours=hours, user=request.user)
    except ValueError:
        messages.error(request, "Give a whole number of hours, or leave it empty for off.")
    except ServiceError as exc:
        banner_service_error(request, exc)
    else:
        messages.success(request, f"Drift check every {hours} h." if hours else "Drift check off.")
    return _back(name, stage)
