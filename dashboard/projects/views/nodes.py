"""Editing a project's blueprint: agents, components and the links between them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.errors import ServiceError
from dashboard.projects import services as project_services
from dashboard.projects.forms import (
    COMPONENT_FORMS,
    AgentForm,
    ComponentForm,
    LinkForm,
    LinkSettingsForm,
    link_form_class,
    node_choices,
)
from dashboard.projects.models import Component, Link, Project
from dashboard.projects.views.api_keys import keys_context
from dashboard.projects.views.projects import project_context
from dashboard.web.helpers import (
    add_service_error,
    banner_service_error,
    project_or_404,
    redirect_after_post,
    render_page,
)


def _project_url(project: Project, anchor: str = "") -> str:
    return reverse("project_detail", args=[project.name]) + (f"#{anchor}" if anchor else "")


def _stale_version(form: AgentForm | ComponentForm) -> int | None:
    return form.cleaned_data.get("version")


# --- agents -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def agent_create(request: HttpRequest, name: str) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="deployer")
    form = AgentForm(
        request.POST or None, request.FILES or None, initial={"version": project.version}
    )
    if request.method == "POST" and form.is_valid():
        try:
            project_services.agent_create(
                project=project, user=request.user, data=form.service_data()
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            return redirect_after_post(request, _project_url(project, "agents"))
    return _agent_page(request, project, form, agent_name=None)


@login_required
@require_http_methods(["GET", "POST"])
def agent_edit(request: HttpRequest, name: str, agent: str) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="deployer")
    instance = get_object_or_404(project.agents, name=agent)
    form = AgentForm(
        request.POST or None,
        request.FILES or None,
        initial=AgentForm.initial_for(instance, project.version),
    )
    if request.method == "POST" and form.is_valid():
        try:
            project_services.agent_update(
                agent=instance,
                user=request.user,
                data=form.service_data(),
                version=_stale_version(form),
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            return redirect_after_post(request, _project_url(project, "agents"))
    return _agent_page(request, project, form, agent_name=instance.name)


def _agent_page(
    request: HttpRequest, project: Project, form: AgentForm, agent_name: str | None
) -> HttpResponse:
    action = (
        reverse("agent_edit", args=[project.name, agent_name])
        if agent_name
        else reverse("agent_create", args=[project.name])
    )
    context = {"project": project, "form": form, "agent_name": agent_name, "action": action}
    status = 400 if form.errors else 200
    return render_page(request, "nodes/agent_form.html", context, "form", status=status)


@login_required
@require_POST
def agent_delete(request: HttpRequest, name: str, agent: str) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="deployer")
    instance = get_object_or_404(project.agents, name=agent)
    try:
        project_services.agent_delete(agent=instance, user=request.user)
    except ServiceError as exc:
        banner_service_error(request, exc)
    return redirect_after_post(request, _project_url(project, "agents"))


# --- components -------------------------------------------------------------------------------


def _component_form_class(kind: str) -> type[ComponentForm]:
    if kind not in COMPONENT_FORMS:
        raise Http404("No such component kind.")
    return COMPONENT_FORMS[kind]


@login_required
@require_http_methods(["GET", "POST"])
def component_create(request: HttpRequest, name: str, kind: str) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="deployer")
    form_class = _component_form_class(kind)
    form = form_class(request.POST or None, initial={"version": project.version})
    if request.method == "POST" and form.is_valid():
        try:
            project_services.component_create(
                project=project,
                user=request.user,
                kind=kind,
                name=form.cleaned_data["name"],
                settings=form.settings(),
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            return redirect_after_post(request, _project_url(project, "components"))
    return _component_page(request, project, form, kind, component_name=None)


@login_required
@require_http_methods(["GET", "POST"])
def component_edit(request: HttpRequest, name: str, kind: str, component: str) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="deployer")
    form_class = _component_form_class(kind)
    instance = get_object_or_404(project.components, kind=kind, name=component)
    form = form_class(
        request.POST or None, initial=form_class.initial_for(instance, project.version)
    )
    if request.method == "POST" and form.is_valid():
        try:
            project_services.component_update(
                component=instance,
                user=request.user,
                name=form.cleaned_data["name"],
                settings=form.settings(),
                version=_stale_version(form),
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            return redirect_after_post(request, _project_url(project, "components"))
    return _component_page(
        request, project, form, kind, component_name=instance.name, component=instance
    )


def _component_page(
    request: HttpRequest,
    project: Project,
    form: ComponentForm,
    kind: str,
    component_name: str | None,
    component: Component | None = None,
) -> HttpResponse:
    action = (
        reverse("component_edit", args=[project.name, kind, component_name])
        if component_name
        else reverse("component_create", args=[project.name, kind])
    )
    context: dict[str, Any] = {
        "project": project,
        "form": form,
        "kind_label": Component.Kind(kind).label,
        "component_name": component_name,
        "action": action,
    }
    if component is not None and component.kind == Component.Kind.HTTP_API:
        context.update(keys_context(project, component))
    status = 400 if form.errors else 200
    return render_page(request, "nodes/component_form.html", context, "form", status=status)


@login_required
@require_POST
def component_delete(request: HttpRequest, name: str, kind: str, component: str) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="deployer")
    instance = get_object_or_404(project.components, kind=kind, name=component)
    try:
        project_services.component_delete(component=instance, user=request.user)
    except ServiceError as exc:
        banner_service_error(request, exc)
    return redirect_after_post(request, _project_url(project, "components"))


# --- links ------------------------------------------------------------------------------------


@login_required
@require_POST
def link_create(request: HttpRequest, name: str) -> HttpResponse:
    project, role = project_or_404(request, name, min_role="deployer")
    nodes = node_choices(list(project.agents.all()), list(project.components.all()))
    form = LinkForm(request.POST, nodes=nodes)
    if form.is_valid():
        try:
            project_services.link_create(
                project=project,
                user=request.user,
                source=form.cleaned_data["source"],
                target=form.cleaned_data["target"],
                kind=form.cleaned_data["kind"] or "",
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            return redirect_after_post(request, _project_url(project, "links"))
    context = project_context(project, role, link_form=form)
    return render_page(request, "projects/detail.html", context, "links", status=400)


@login_required
@require_POST
def link_delete(request: HttpRequest, name: str, link_id: int) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="deployer")
    link = get_object_or_404(project.links, pk=link_id)
    try:
        project_services.link_delete(link=link, user=request.user)
    except ServiceError as exc:
        banner_service_error(request, exc)
    return redirect_after_post(request, _project_url(project, "links"))


@login_required
@require_http_methods(["GET", "POST"])
def link_edit(request: HttpRequest, name: str, link_id: int) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="deployer")
    link = get_object_or_404(project.links, pk=link_id)
    form_class = link_form_class(link)
    form = form_class(request.POST or None, initial=form_class.initial_for(link, project.version))
    if request.method == "POST" and form.is_valid():
        try:
            link_save(link, form, request)
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            return redirect_after_post(request, _project_url(project, "links"))
    action = reverse("link_edit", args=[project.name, link.pk])
    return render_link_form(request, project, link, form, action)


def link_save(link: Link, form: LinkSettingsForm, request: HttpRequest) -> Link:
    return project_services.link_update(
        link=link,
        user=request.user,
        settings=form.settings(),
        kind=form.link_kind(),
        version=form.cleaned_data.get("version"),
    )


def link_label(link: Link) -> str:
    return f"{link.source} → {link.target}"


def render_link_form(
    request: HttpRequest,
    project: Project,
    link: Link,
    form: LinkSettingsForm,
    action: str,
    *,
    in_panel: bool = False,
) -> HttpResponse:
    context = {
        "project": project,
        "form": form,
        "action": action,
        "link_label": link_label(link),
        "in_panel": in_panel,
    }
    status = 400 if form.errors else 200
    if in_panel:
        return render(request, "nodes/link_form.html#form", context, status=status)
    return render_page(request, "nodes/link_form.html", context, "form", status=status)
