"""The chat panel on an agent's page: one prompt to the deployed agent, its answer, the time."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods

from dashboard.errors import ServiceError
from dashboard.projects import chat
from dashboard.projects.models import Project, Stage
from dashboard.web.helpers import project_or_404, render_page


@login_required
@require_http_methods(["GET", "POST"])
def agent_chat(request: HttpRequest, name: str, agent: str) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="deployer")
    instance = get_object_or_404(project.agents, name=agent)
    stage = _stage(project, request.POST.get("stage") or request.GET.get("stage"))
    context: dict[str, object] = {
        "project": project,
        "agent": instance,
        "stages": list(project.stages.all()),
        "stage": stage,
        "prompt": request.POST.get("prompt", ""),
        "session_id": request.POST.get("session_id", ""),
    }
    status, retry_after = 200, ""
    if request.method == "POST":
        try:
            reply = chat.agent_ask(
                agent=instance,
                stage=stage,
                user=request.user,
                prompt=request.POST.get("prompt", ""),
                session_id=request.POST.get("session_id", ""),
            )
            context["answer"], context["cost_usd"] = reply.answer, reply.cost_usd
        except chat.ChatRateLimited as exc:
            context["error"], status = exc.message, 429
            retry_after = str(exc.retry_after)
        except ServiceError as exc:
            context["error"], status = exc.message, 400
    response = render_page(request, "agents/chat.html", context, "chat", status=status)
    if status == 429:
        response["Retry-After"] = retry_after
    return response


def _stage(project: Project, name: str | None) -> Stage:
    stages = project.stages.all()
    stage = get_object_or_404(stages, name=name) if name else stages.first()
    if stage is None:
        raise Http404("This project has no stage.")
    return stage
