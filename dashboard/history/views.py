"""Audit pages: history per project and across projects, exports, deploy-this-plan, redeploy,
the plan's cost partial, and the stage's drift page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard.errors import ServiceError
from dashboard.history import detail as history_detail
from dashboard.history import selectors as history_selectors
from dashboard.history import services as history_services
from dashboard.projects.models import Project
from dashboard.runs import selectors as run_selectors
from dashboard.runs.models import Deployment
from dashboard.web.helpers import (
    banner_service_error,
    project_or_404,
    refused_run,
    render_page,
    role_at_least,
)

PAGE_SIZE = 20


def _history_context(request: HttpRequest, project: Project | None) -> dict[str, Any]:
    filters = history_selectors.clean_filters(request.GET)
    page = history_selectors.history_page(
        user=request.user,
        project=project,
        filters=filters,
        older_than=request.GET.get("older"),
        newer_than=request.GET.get("newer"),
        size=PAGE_SIZE,
    )
    here = reverse("deployment_history", args=[project.name]) if project else reverse("history_all")
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    return {
        "project": project,
        "page": page,
        "deployments": page.runs,
        "filters": filters,
        "here": here,
        "query": query,
        "stages": sorted(s.name for s in project.stages.all()) if project else [],
        "users": history_selectors.history_users(project=project, user=request.user),
        "kinds": Deployment.Kind.choices,
        "statuses": Deployment.Status.choices,
    }


@login_required
def project_history(request: HttpRequest, name: str) -> HttpResponse:
    project, role = project_or_404(request, name)
    context = _history_context(request, project)
    # An empty history offers the first step: a plan of the first stage, for those who may.
    context["plan_stage"] = project.stages.first() if role_at_least(role, "deployer") else None
    return render_page(request, "history/list.html", context, "table")


@login_required
def history_all(request: HttpRequest) -> HttpResponse:
    context = _history_context(request, None)
    return render_page(request, "history/list.html", context, "table")


# --- exports -------------------------------------------------------------------------------
def _json_chunks(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n" + json.dumps(row, default=str)
    yield "\n]\n"


def _csv_chunks(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=history_selectors.EXPORT_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "plan_summary": json.dumps(row["plan_summary"] or {})})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def export_response(rows: Iterator[dict[str, Any]], fmt: str, stem: str) -> StreamingHttpResponse:
    if fmt == "csv":
        response = StreamingHttpResponse(_csv_chunks(rows), content_type="text/csv")
    else:
        response = StreamingHttpResponse(_json_chunks(rows), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{stem}-history.{fmt}"'
    return response


@login_required
def project_export(request: HttpRequest, name: str, fmt: str) -> StreamingHttpResponse:
    project, _role = project_or_404(request, name)
    filters = history_selectors.clean_filters(request.GET)
    rows = history_selectors.export_rows(user=request.user, project=project, filters=filters)
    return export_response(rows, fmt, project.name)


@login_required
def history_export(request: HttpRequest, fmt: str) -> StreamingHttpResponse:
    filters = history_selectors.clean_filters(request.GET)
    rows = history_selectors.export_rows(user=request.user, project=None, filters=filters)
    return export_response(rows, fmt, "all")


# --- deploy this plan, redeploy this version, the plan's cost --------------------------------
@login_required
@require_POST
def deploy_plan(request: HttpRequest, deployment_id: int) -> HttpResponse:
    plan = run_selectors.deployment_for_user(user=request.user, deployment_id=deployment_id)
    try:
        run = history_services.deployment_deploy_plan(plan=plan, user=request.user)
    except ServiceError as exc:
        return refused_run(request, exc, redirect("deployment_detail", deployment_id=plan.pk))
    return redirect("deployment_detail", deployment_id=run.pk)


@login_required
@require_POST
def redeploy(request: HttpRequest, deployment_id: int) -> HttpResponse:
    source = run_selectors.deployment_for_user(user=request.user, deployment_id=deployment_id)
    try:
        plan = history_services.deployment_redeploy(source=source, user=request.user)
    except ServiceError as exc:
        banner_service_error(request, exc)
        return redirect("deployment_detail", deployment_id=source.pk)
    messages.info(request, f"Planning the version of #{source.pk}: review it, then deploy it.")
    return redirect("deployment_detail", deployment_id=plan.pk)


@login_required
def plan_cost(request: HttpRequest, deployment_id: int) -> HttpResponse:
    """The cost section alone, recomputed with the assumptions in the query string."""
    plan = run_selectors.deployment_for_user(user=request.user, deployment_id=deployment_id)
    if plan.kind != Deployment.Kind.PLAN:
        raise PermissionDenied
    context = {"deployment": plan, "cost": history_services.plan_cost(plan, request.GET)}
    return render_page(request, "deployments/cost.html", context, "cost")


def review_context(
    deployment: Deployment, events: list[dict[str, Any]], query: Any
) -> dict[str, Any]:
    """What the run page adds for review and audit: cost, staleness, snapshot diff, timeline."""
    finished_plan = (
        deployment.kind == Deployment.Kind.PLAN and deployment.status == Deployment.Status.SUCCEEDED
    )
    context: dict[str, Any] = {"cost": None, "plan_current": None, "timeline": None}
    if deployment.kind == Deployment.Kind.PLAN:
        findings = history_detail.plan_findings(deployment.plan or {})
        context["findings"] = findings
        context["blocking"] = [f for f in findings if f["severity"] == history_detail.BLOCKING]
    if finished_plan and (deployment.plan or {}).get("cost_inputs") is not None:
        context["cost"] = history_services.plan_cost(deployment, query)
    if finished_plan and deployment.stage_id and deployment.plan_fingerprint:
        context["plan_current"] = history_services.plan_is_current(deployment)
    previous = None
    if deployment.kind in (Deployment.Kind.PLAN, Deployment.Kind.DEPLOY) and deployment.blueprint:
        previous = history_selectors.previous_success(deployment)
        old = previous.blueprint if previous is not None else None
        context["snapshot_diff"] = history_detail.snapshot_diff(old, deployment.blueprint)
    context["previous"] = previous
    if deployment.kind != Deployment.Kind.PLAN:
        line = history_detail.timeline(events)
        context["timeline"] = (
            {"bars": line.scaled(), "total_ms": line.total_ms} if line.bars else None
        )
    return context
