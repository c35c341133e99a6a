"""The canvas's endpoints: its state as JSON, JSON edits, the inspector and the side panel.

Every edit carries the project `version` the browser last saw, in a body whose shape is
declared in `canvas_bodies.py`. Answers: 200 {"version": n, ...}; 400 {"error", "field"}
for a malformed body or a refused edit (the reason is the services'); 403 {"error"} below
the deployer role; 409 {"error", "version"} when the project changed since (another tab or
another person); 413 {"error"} for a body over `json_input.MAX_BODY_BYTES`; 415 {"error"}
for a body that is not application/json.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.canvas import bodies
from dashboard.canvas import selectors as canvas_selectors
from dashboard.canvas import services as canvas_services
from dashboard.errors import ServiceError, StaleWrite
from dashboard.json_input import JsonRefused
from dashboard.projects import selectors as project_selectors
from dashboard.projects import services as project_services
from dashboard.projects.forms import COMPONENT_FORMS, AgentForm, ComponentForm, link_form_class
from dashboard.projects.models import Agent, Component, Project, Stage
from dashboard.projects.views.api_keys import keys_context
from dashboard.projects.views.nodes import link_save, render_link_form
from dashboard.runs import services as run_services
from dashboard.web.helpers import add_service_error, project_or_404, role_at_least

STALE_MESSAGE = "This project changed in another tab or by someone else — reload to see it."
View = Callable[..., HttpResponse]


def _json_errors(view: View) -> View:
    """Refusals as JSON the canvas can show, instead of Django's HTML error pages."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except StaleWrite:
            project = Project.objects.filter(name=kwargs.get("name")).first()
            current = project.version if project else None
            return JsonResponse({"error": STALE_MESSAGE, "version": current}, status=409)
        except JsonRefused as exc:
            return JsonResponse({"error": exc.message, "field": exc.field}, status=exc.status)
        except ServiceError as exc:
            return JsonResponse({"error": exc.message, "field": exc.field}, status=400)
        except PermissionDenied as exc:
            message = str(exc) or "you may look at this project but not change it"
            return JsonResponse({"error": message}, status=403)
        except Http404 as exc:
            return JsonResponse({"error": str(exc) or "not found"}, status=404)

    return wrapped


def _editable(request: HttpRequest, name: str) -> Project:
    project, role = project_or_404(request, name)
    if not role_at_least(role, "deployer"):
        raise PermissionDenied(
            "viewers see the canvas read-only: ask an owner for the deployer role"
        )
    return project


def _asked_stage(request: HttpRequest, project: Project) -> Stage:
    stage = canvas_selectors.stage_for(project, request.GET.get("stage"))
    if stage is None:
        raise Http404("this project has no stage")
    return stage


def _node(project: Project, key: str) -> Agent | Component:
    node = project_selectors.node_by_key(project=project, key=key)
    if node is None:
        raise Http404(f"{project.name} has no node {key!r}")
    return node


def _version_now(project: Project) -> int:
    project.refresh_from_db(fields=["version"])
    return project.version


# --- reads -----------------------------------------------------------------------------------------
@login_required
@require_GET
@_json_errors
def canvas_state(request: HttpRequest, name: str) -> HttpResponse:
    project, role = project_or_404(request, name)
    stage = canvas_selectors.stage_for(project, request.GET.get("stage"))
    if stage is None:
        raise Http404("this project has no stage")
    state = canvas_selectors.canvas_state(
        project=project, stage=stage, role=role, can_edit=role_at_least(role, "deployer")
    )
    return JsonResponse(state)


@login_required
@require_GET
@_json_errors
def node_explain(request: HttpRequest, name: str, key: str) -> HttpResponse:
    project, _role = project_or_404(request, name)
    stage = _asked_stage(request, project)
    return JsonResponse(canvas_selectors.node_explain(stage=stage, node=_node(project, key)))


@login_required
@require_GET
@_json_errors
def link_explain(request: HttpRequest, name: str, link_id: int) -> HttpResponse:
    project, _role = project_or_404(request, name)
    stage = _asked_stage(request, project)
    link = get_object_or_404(project.links, pk=link_id)
    return JsonResponse(canvas_selectors.link_explain(stage=stage, link=link))


# --- JSON edits ------------------------------------------------------------------------------------
@login_required
@require_POST
@_json_errors
def node_add(request: HttpRequest, name: str) -> HttpResponse:
    project = _editable(request, name)
    body = bodies.read(request, bodies.NodeAdd)
    common = {
        "project": project,
        "user": request.user,
        "kind": body.kind,
        "x": canvas_services.coordinate(body.x),
        "y": canvas_services.coordinate(body.y),
        "version": body.version,
    }
    if body.links is not None:  # the undo of a delete
        links = [link.model_dump() for link in body.links]
        node, made = canvas_services.node_restore(**common, data=body.data or {}, links=links)
    else:
        node, made = canvas_services.node_add(**common, data=body.data), []
    return JsonResponse(
        {
            "version": _version_now(project),
            "key": node.key,
            "links": [
                {"id": link.pk, "source": link.source, "target": link.target} for link in made
            ],
        }
    )


@login_required
@require_POST
@_json_errors
def nodes_move(request: HttpRequest, name: str) -> HttpResponse:
    project = _editable(request, name)
    body = bodies.read(request, bodies.NodesMove)
    moves = [move.model_dump() for move in body.moves]
    canvas_services.nodes_move(
        project=project, user=request.user, moves=moves, version=body.version
    )
    return JsonResponse({"version": _version_now(project)})


@login_required
@require_POST
@_json_errors
def node_update(request: HttpRequest, name: str, key: str) -> HttpResponse:
    project = _editable(request, name)
    body = bodies.read(request, bodies.NodeUpdate)
    node = canvas_services.node_update(
        project=project, user=request.user, key=key, data=body.data, version=body.version
    )
    return JsonResponse({"version": _version_now(project), "key": node.key})


@login_required
@require_POST
@_json_errors
def node_delete(request: HttpRequest, name: str, key: str) -> HttpResponse:
    project = _editable(request, name)
    body = bodies.read(request, bodies.Edit)
    _node(project, key)
    canvas_services.node_delete(project=project, user=request.user, key=key, version=body.version)
    return JsonResponse({"version": _version_now(project)})


@login_required
@require_POST
@_json_errors
def link_add(request: HttpRequest, name: str) -> HttpResponse:
    project = _editable(request, name)
    body = bodies.read(request, bodies.LinkAdd)
    link = project_services.link_create(
        project=project,
        user=request.user,
        source=body.source,
        target=body.target,
        kind=body.kind or "",
        settings=body.settings,
        version=body.version,
    )
    return JsonResponse(
        {
            "version": _version_now(project),
            "id": link.pk,
            "kind": link.kind,
            "settings": link.settings,
        }
    )


@login_required
@require_POST
@_json_errors
def link_delete(request: HttpRequest, name: str, link_id: int) -> HttpResponse:
    project = _editable(request, name)
    body = bodies.read(request, bodies.Edit)
    link = get_object_or_404(project.links, pk=link_id)
    project_services.link_delete(link=link, user=request.user, version=body.version)
    return JsonResponse({"version": _version_now(project)})


@login_required
@require_POST
@_json_errors
def deploy(request: HttpRequest, name: str, stage: str) -> HttpResponse:
    project = _editable(request, name)
    bodies.read(request, bodies.Deploy)  # nothing to use, but a malformed body is still refused
    stage_obj = get_object_or_404(project.stages, name=stage)
    run = run_services.deployment_start(stage=stage_obj, kind="deploy", user=request.user)
    return JsonResponse(
        {
            "id": run.pk,
            "kind": run.kind,
            "status": run.status,
            "ws": f"/ws/deployments/{run.pk}/",
            "url": reverse("deployment_detail", args=[run.pk]),
        }
    )


# --- the side panel (htmx): the node's own edit form ---------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def node_panel(request: HttpRequest, name: str, key: str) -> HttpResponse:
    """The same form as the node's full page, posted back here so the canvas stays put."""
    project, role = project_or_404(request, name)
    if not role_at_least(role, "deployer"):
        raise PermissionDenied
    node = _node(project, key)
    form = _panel_form(node, project, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            node = _save_panel(node, form, request)
        except StaleWrite:
            form.add_error(None, STALE_MESSAGE)
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            project.refresh_from_db(fields=["version"])
            response = _render_panel(request, project, node, _panel_form(node, project, None))
            response["HX-Trigger"] = json.dumps(
                {"canvas:changed": {"version": project.version, "key": node.key}}
            )
            return response
    return _render_panel(request, project, node, form, status=400 if form.errors else 200)


def _panel_form(node: Agent | Component, project: Project, data: Any) -> AgentForm | ComponentForm:
    if isinstance(node, Agent):
        return AgentForm(data, initial=AgentForm.initial_for(node, project.version))
    form_class = COMPONENT_FORMS[node.kind]
    return form_class(data, initial=form_class.initial_for(node, project.version))


def _save_panel(
    node: Agent | Component, form: AgentForm | ComponentForm, request: HttpRequest
) -> Agent | Component:
    version = form.cleaned_data.get("version")
    if isinstance(node, Agent) and isinstance(form, AgentForm):
        return project_services.agent_update(
            agent=node, user=request.user, data=form.service_data(), version=version
        )
    assert isinstance(node, Component) and isinstance(form, ComponentForm)
    return project_services.component_update(
        component=node,
        user=request.user,
        name=form.cleaned_data["name"],
        settings=form.settings(),
        version=version,
    )


def _render_panel(
    request: HttpRequest,
    project: Project,
    node: Agent | Component,
    form: AgentForm | ComponentForm,
    status: int = 200,
) -> HttpResponse:
    action = reverse("canvas_node_panel", args=[project.name, node.key])
    context: dict[str, Any] = {"project": project, "form": form, "action": action}
    if isinstance(node, Agent):
        context["agent_name"] = node.name
        template = "nodes/agent_form.html#form"
    else:
        context["component_name"] = node.name
        context["kind_label"] = node.get_kind_display()
        template = "nodes/component_form.html#form"
        # An HTTP API's keys sit below its form; a POST answers for the form alone, which it
        # replaces, so the keys section is sent only when the panel opens.
        if node.kind == Component.Kind.HTTP_API and request.method == "GET":
            context.update(keys_context(project, node))
            template = "nodes/component_form.html#panel"
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def link_panel(request: HttpRequest, name: str, link_id: int) -> HttpResponse:
    """The link's own settings, as on its full page, posted back here like a node's panel."""
    project, role = project_or_404(request, name)
    if not role_at_least(role, "deployer"):
        raise PermissionDenied
    link = get_object_or_404(project.links, pk=link_id)
    form_class = link_form_class(link)
    initial = form_class.initial_for(link, project.version)
    form = form_class(request.POST if request.method == "POST" else None, initial=initial)
    action = reverse("canvas_link_panel", args=[project.name, link.pk])
    if request.method == "POST" and form.is_valid():
        try:
            link = link_save(link, form, request)
        except StaleWrite:
            form.add_error(None, STALE_MESSAGE)
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            project.refresh_from_db(fields=["version"])
            fresh = form_class(initial=form_class.initial_for(link, project.version))
            response = render_link_form(request, project, link, fresh, action, in_panel=True)
            response["HX-Trigger"] = json.dumps(
                {"canvas:changed": {"version": project.version, "link": link.pk}}
            )
            return response
    return render_link_form(request, project, link, form, action, in_panel=True)
