"""Stage settings (owners): target, region, role to assume, protection, permissions
boundary, write-only static keys; "Check access" shows who deploys would act as; and
the approval of a plan for a protected stage."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.access import credentials
from dashboard.access import services as access_services
from dashboard.access.forms import StageForm
from dashboard.errors import ServiceError
from dashboard.projects.models import Project, Stage
from dashboard.runs import selectors as run_selectors
from dashboard.web.helpers import (
    add_service_error,
    project_or_404,
    redirect_after_post,
    refused_run,
    render_page,
)


def _stage(project: Project, name: str) -> Stage:
    return get_object_or_404(project.stages, name=name)


@login_required
@require_http_methods(["GET", "POST"])
def stage_settings(request: HttpRequest, name: str, stage: str) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="owner")
    stage_obj = _stage(project, stage)
    form = StageForm(request.POST or None, initial=StageForm.initial_for(stage_obj))
    if request.method == "POST" and form.is_valid():
        try:
            access_services.stage_update(
                stage=stage_obj, user=request.user, data=form.service_data()
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Settings of stage {stage_obj.name} saved.")
            return redirect_after_post(request, _settings_url(stage_obj))
    return _page(request, stage_obj, form)


def _settings_url(stage: Stage) -> str:
    return reverse("stage_settings", args=[stage.project.name, stage.name])


def _page(
    request: HttpRequest,
    stage: Stage,
    form: StageForm,
    identity: credentials.Identity | None = None,
) -> HttpResponse:
    context = {
        "project": stage.project,
        "stage": stage,
        "form": form,
        "has_static_keys": bool(stage.access_key_id_sealed),
        "identity": identity,
    }
    status = 400 if form.errors else 200
    partial = "access" if identity is not None and request.htmx else "form"
    return render_page(request, "stages/settings.html", context, partial, status=status)


@login_required
@require_POST
def stage_check_access(request: HttpRequest, name: str, stage: str) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="owner")
    stage_obj = _stage(project, stage)
    identity = credentials.check_access(stage_obj, who=request.user.get_username())
    form = StageForm(initial=StageForm.initial_for(stage_obj))
    return _page(request, stage_obj, form, identity=identity)


@login_required
@require_POST
def deployment_approve(request: HttpRequest, deployment_id: int) -> HttpResponse:
    plan = run_selectors.deployment_for_user(user=request.user, deployment_id=deployment_id)
    if plan.stage is None:
        raise Http404("no such deployment")
    project_or_404(request, plan.stage.project.name, min_role="owner")
    try:
        deployment = access_services.deployment_approve(plan=plan, user=request.user)
    except ServiceError as exc:
        return refused_run(request, exc, redirect("deployment_detail", deployment_id=plan.pk))
    return redirect("deployment_detail", deployment_id=deployment.pk)
