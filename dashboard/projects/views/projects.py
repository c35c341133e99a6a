"""The project list (with the create form) and the project page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.errors import ServiceError
from dashboard.history import drift as drift_services
from dashboard.projects import selectors as project_selectors
from dashboard.projects import services as project_services
from dashboard.projects.forms import LinkForm, ProjectForm, node_choices
from dashboard.projects.models import Agent, Component, Link, Project, Stage
from dashboard.runs import selectors as run_selectors
from dashboard.web.helpers import (
    add_service_error,
    banner_service_error,
    project_or_404,
    redirect_after_post,
    render_page,
    role_at_least,
)


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_services.project_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                user=request.user,
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            return redirect_after_post(request, reverse("project_detail", args=[project.name]))
    context = {"projects": project_selectors.project_list_health(user=request.user), "form": form}
    status = 400 if form.errors else 200
    partial = "create_form" if request.method == "POST" else "project_table"
    return render_page(request, "projects/list.html", context, partial, status=status)


@login_required
def project_detail(request: HttpRequest, name: str) -> HttpResponse:
    project, role = project_or_404(request, name)
    context = project_context(project, role)
    return render_page(request, "projects/detail.html", context, "blueprint")


@login_required
@require_POST
def project_delete(request: HttpRequest, name: str) -> HttpResponse:
    """Owners delete a project once every stage is destroyed; a refusal says which first."""
    project, _role = project_or_404(request, name, min_role="owner")
    try:
        project_services.project_delete(project=project, user=request.user)
    except ServiceError as exc:
        banner_service_error(request, exc)
        return redirect_after_post(request, reverse("project_detail", args=[project.name]))
    messages.success(request, f"{project.name} deleted; its runs stay in the history")
    return redirect_after_post(request, reverse("project_list"))


def project_context(
    project: Project, role: str, link_form: LinkForm | None = None
) -> dict[str, Any]:
    agents = list(project.agents.all())
    components = list(project.components.all())
    links = list(project.links.all())
    nodes = node_choices(agents, components)
    labels = dict(nodes)
    return {
        "project": project,
        "role": role,
        "can_edit": role_at_least(role, "deployer"),
        "can_destroy": role_at_least(role, "owner"),
        "stages": [_stage_summary(stage) for stage in project.stages.all()],
        "agents": [_card(a, links, labels, project.name) for a in agents],
        "components": [_card(c, links, labels, project.name) for c in components],
        "links": [{"link": link, **_link_labels(link, labels)} for link in links],
        "link_form": link_form or LinkForm(nodes=nodes),
        "component_kinds": Component.Kind.choices,
        "has_nodes": bool(nodes),
    }


def _stage_summary(stage: Stage) -> dict[str, Any]:
    return {
        "stage": stage,
        "last": stage.deployments.first(),
        "active": run_selectors.deployment_active(stage=stage),
        "resource_count": project_selectors.stage_resources(stage=stage).count(),
        "drifted": drift_services.stage_drift(stage=stage),
        "endpoints": run_selectors.stage_endpoints(stage=stage),
    }


def _link_labels(link: Link, labels: dict[str, str]) -> dict[str, str]:
    return {
        "source_label": labels.get(link.source, link.source),
        "target_label": labels.get(link.target, link.target),
    }


def _card(
    node: Agent | Component, links: list[Link], labels: dict[str, str], project_name: str
) -> dict[str, Any]:
    """A node with the links that touch it, each told from the node's side."""
    touching = []
    for link in links:
        if link.source == node.key:
            touching.append(
                {"link": link, "arrow": "→", "other": labels.get(link.target, link.target)}
            )
        elif link.target == node.key:
            touching.append(
                {"link": link, "arrow": "←", "other": labels.get(link.source, link.source)}
            )
    return {"node": node, "links": touching, "edit_url": _edit_url(node, project_name)}


def _edit_url(node: Agent | Component, project_name: str) -> str:
    if isinstance(node, Agent):
        return reverse("agent_edit", args=[project_name, node.name])
    return reverse("component_edit", args=[project_name, node.kind, node.name])
