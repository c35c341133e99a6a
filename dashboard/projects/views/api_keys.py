"""The keys of an HTTP API in api_key mode: a section on its page and in the canvas panel."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.errors import ServiceError
from dashboard.projects import api_keys
from dashboard.projects.models import Component, Project
from dashboard.web.helpers import project_or_404, render_page


def keys_context(project: Project, component: Component, **extra: Any) -> dict[str, Any]:
    """What the keys section shows; the component page and the panel include it."""
    return {
        "project": project,
        "component": component,
        "api_key_mode": (component.settings or {}).get("auth") == "api_key",
        "api_keys": api_keys.api_key_list(component=component),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def api_key_list(request: HttpRequest, name: str, component: str) -> HttpResponse:
    """GET lists the keys; POST makes one and shows it this once."""
    project, instance = _api(request, name, component)
    extra: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        try:
            extra["issued"] = api_keys.api_key_create(
                component=instance, user=request.user, label=request.POST.get("label", "")
            )
        except ServiceError as exc:
            extra["error"], status = exc.message, 400
    return _render(request, project, instance, extra, status)


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, name: str, component: str, key_id: str) -> HttpResponse:
    project, instance = _api(request, name, component)
    extra: dict[str, Any] = {}
    status = 200
    try:
        extra["revoked"] = api_keys.api_key_revoke(
            component=instance, user=request.user, key_id=key_id
        )
    except ServiceError as exc:
        extra["error"], status = exc.message, 400
    return _render(request, project, instance, extra, status)


@login_required
@require_POST
def api_key_rotate(request: HttpRequest, name: str, component: str, key_id: str) -> HttpResponse:
    """A new key now; the old one is revoked by a second, confirmed click once callers switched."""
    project, instance = _api(request, name, component)
    extra: dict[str, Any] = {}
    status = 200
    try:
        extra["issued"] = api_keys.api_key_rotate(
            component=instance, user=request.user, key_id=key_id
        )
        extra["replaces"] = key_id
    except ServiceError as exc:
        extra["error"], status = exc.message, 400
    return _render(request, project, instance, extra, status)


def _api(request: HttpRequest, name: str, component: str) -> tuple[Project, Component]:
    project, _role = project_or_404(request, name, min_role="deployer")
    instance = get_object_or_404(project.components, kind=Component.Kind.HTTP_API, name=component)
    return project, instance


def _render(
    request: HttpRequest,
    project: Project,
    component: Component,
    extra: dict[str, Any],
    status: int,
) -> HttpResponse:
    component.refresh_from_db()
    context = keys_context(project, component, **extra)
    response = render_page(request, "nodes/api_keys.html", context, "keys", status=status)
    # The page holds a key shown once: no cache may keep a copy of it.
    response["Cache-Control"] = "no-store"
    return response
