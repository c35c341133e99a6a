"""An agent's Logs and Metrics tabs, and a stage's summary. Viewers may read all of it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from dashboard.errors import ServiceError
from dashboard.observe import ranges, selectors
from dashboard.projects.models import Agent, Project, Stage
from dashboard.web.helpers import project_or_404, render_page


def _place(request: HttpRequest, name: str, stage: str) -> tuple[Project, Stage]:
    project, _role = project_or_404(request, name)
    return project, get_object_or_404(project.stages, name=stage)


def _span(request: HttpRequest) -> tuple[ranges.TimeRange, str]:
    """The asked range, or the default one and why the asked one was refused."""
    try:
        span = ranges.time_range(
            request.GET.get("range"), request.GET.get("start", ""), request.GET.get("end", "")
        )
    except ServiceError as exc:
        return ranges.time_range(ranges.DEFAULT), exc.message
    return span, ""


def _common(project: Project, stage: Stage, span: ranges.TimeRange, problem: str) -> dict:
    return {
        "project": project,
        "stage": stage,
        "stages": list(project.stages.all()),
        "span": span,
        "presets": [(key, label) for key, (label, _) in ranges.PRESETS.items()],
        "range_problem": problem,
    }


@login_required
@require_GET
def agent_logs(request: HttpRequest, name: str, stage: str, agent: str) -> HttpResponse:
    project, place = _place(request, name, stage)
    instance: Agent = get_object_or_404(project.agents, name=agent)
    span, problem = _span(request)
    filter_text = request.GET.get("filter", "").strip()[:200]
    level = request.GET.get("level", "").upper()
    view = selectors.agent_log_lines(
        stage=place, agent=instance, user=request.user, span=span,
        filter_text=filter_text, level=level,
    )  # fmt: skip
    context = {
        **_common(project, place, span, problem),
        "agent": instance,
        "tab": "logs",
        "view": view,
        "filter_text": filter_text,
        "level": level,
        "levels": selectors.LEVELS,
        "alarms": selectors.agent_alarms(stage=place, agent=instance),
    }
    return render_page(request, "observe/logs.html", context, "lines")


@login_required
@require_GET
def agent_metrics(request: HttpRequest, name: str, stage: str, agent: str) -> HttpResponse:
    project, place = _place(request, name, stage)
    instance: Agent = get_object_or_404(project.agents, name=agent)
    span, problem = _span(request)
    context = {
        **_common(project, place, span, problem),
        "agent": instance,
        "tab": "metrics",
        "view": selectors.agent_metrics(stage=place, agent=instance, user=request.user, span=span),
        "alarms": selectors.agent_alarms(stage=place, agent=instance),
    }
    return render_page(request, "observe/metrics.html", context, "charts")


@login_required
@require_GET
def stage_metrics(request: HttpRequest, name: str, stage: str) -> HttpResponse:
    project, place = _place(request, name, stage)
    span, problem = _span(request)
    rows = selectors.stage_summary(stage=place, user=request.user, span=span)
    context = {
        **_common(project, place, span, problem),
        "rows": rows,
        "model_cost": selectors.stage_cost(rows),
    }
    return render_page(request, "observe/stage.html", context, "summary")
