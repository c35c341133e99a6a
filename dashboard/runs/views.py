"""Runs: start a plan / deploy / destroy, watch one live, and the project's history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.access import roles
from dashboard.access import services as access_services
from dashboard.errors import ServiceError
from dashboard.history import views as history_views
from dashboard.projects import selectors as project_selectors
from dashboard.projects.forms import DestroyConfirmForm
from dashboard.projects.models import Project, Stage
from dashboard.runs import selectors as run_selectors
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment
from dashboard.runs.services import StageBusy
from dashboard.web.helpers import (
    banner_service_error,
    error_message,
    project_or_404,
    refused_run,
    render_page,
    role_at_least,
)

PAGE_SIZE = 20


def _stage(project: Project, name: str) -> Stage:
    return get_object_or_404(project.stages, name=name)


@login_required
@require_POST
def deployment_start(request: HttpRequest, name: str, stage: str, kind: str) -> HttpResponse:
    """Plan or Deploy: start the run and show its page; a busy stage says so on the project page."""
    project, _role = project_or_404(request, name, min_role="deployer")
    try:
        deployment = run_services.deployment_start(
            stage=_stage(project, stage), kind=kind, user=request.user
        )
    except ServiceError as exc:
        return refused_run(request, exc, redirect("project_detail", name=project.name))
    return redirect("deployment_detail", deployment_id=deployment.id)


@login_required
@require_http_methods(["GET", "POST"])
def destroy_confirm(request: HttpRequest, name: str, stage: str) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="owner")
    stage_obj = _stage(project, stage)
    form = DestroyConfirmForm(request.POST or None, project_name=project.name)
    if request.method == "POST" and form.is_valid():
        try:
            deployment = run_services.deployment_start(
                stage=stage_obj, kind="destroy", user=request.user
            )
        except StageBusy as exc:
            return refused_run(request, exc, redirect("project_detail", name=project.name))
        except ServiceError as exc:
            form.add_error(None, error_message(exc))
        else:
            return redirect("deployment_detail", deployment_id=deployment.id)
    context = {
        "project": project,
        "stage": stage_obj,
        "form": form,
        "resources": list(project_selectors.stage_resources(stage=stage_obj)),
    }
    status = 400 if form.errors else 200
    return render_page(request, "deployments/destroy_confirm.html", context, "form", status=status)


@login_required
def deployment_detail(request: HttpRequest, deployment_id: int) -> HttpResponse:
    """The live page of one run; htmx asks for the `summary` partial when the run ends."""
    deployment = run_selectors.deployment_for_user(user=request.user, deployment_id=deployment_id)
    events = list(run_selectors.deployment_events(deployment=deployment, after=0))
    progress = run_selectors.deployment_progress(deployment=deployment, events=events)
    context = {
        "deployment": deployment,
        "role": _role_for(request, deployment),
        "events": events,
        "rows": progress.rows,
        "last_seq": events[-1]["seq"] if events else 0,
        "done": progress.done,
        "total": progress.total,
        "plan": deployment.plan or {},
        "endpoints": run_selectors.deployment_endpoints(deployment=deployment),
    }
    context["can_deploy"] = role_at_least(context["role"], "deployer") and deployment.stage_id
    context["can_approve"] = access_services.can_approve(plan=deployment, user=request.user)
    context.update(history_views.review_context(deployment, events, request.GET))
    return render_page(request, "deployments/detail.html", context, "summary")


@login_required
@require_POST
def deployment_cancel(request: HttpRequest, deployment_id: int) -> HttpResponse:
    deployment = run_selectors.deployment_for_user(user=request.user, deployment_id=deployment_id)
    if not role_at_least(_role_for(request, deployment), "deployer"):
        raise PermissionDenied
    try:
        run_services.deployment_cancel(deployment=deployment, user=request.user)
    except ServiceError as exc:
        banner_service_error(request, exc)
    else:
        messages.info(request, "Cancel requested: running steps finish, nothing new starts.")
    return redirect("deployment_detail", deployment_id=deployment.id)


def _role_for(request: HttpRequest, deployment: Deployment) -> str:
    """The user's role in the run's project; "" once the project is gone (history stays readable)."""
    if deployment.stage is None:
        return ""
    return roles.role_for(project=deployment.stage.project, user=request.user) or ""
