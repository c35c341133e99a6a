"""View glue shared by the view modules: access checks, partial rendering, error display."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseClientRedirect

from dashboard.errors import ServiceError
from dashboard.projects import selectors as project_selectors
from dashboard.projects.models import Project

ROLE_ORDER = ("viewer", "deployer", "owner")


def project_or_404(
    request: HttpRequest, name: str, min_role: str = "viewer"
) -> tuple[Project, str]:
    """The project if the user may see it at `min_role` (404 hides projects they are not in)."""
    project, role = project_selectors.project_for_user(
        user=request.user, name=name, min_role=min_role
    )
    return project, role


def role_at_least(role: str, needed: str) -> bool:
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(needed) if role in ROLE_ORDER else False


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], partial: str, status: int = 200
) -> HttpResponse:
    """The whole page, or only its named partial when htmx asked for it."""
    name = f"{template}#{partial}" if request.htmx else template
    return render(request, name, context, status=status)


def redirect_after_post(request: HttpRequest, url: str) -> HttpResponse:
    # htmx would swap a followed redirect into the target; a client redirect loads the page
    # instead. Without the #fragment: the same URL plus a fragment would only scroll, not reload.
    if request.htmx:
        return HttpResponseClientRedirect(url.split("#", 1)[0])
    return redirect(url)


def error_message(exc: ServiceError) -> str:
    return str(getattr(exc, "message", "") or exc)


def add_service_error(form: forms.Form, exc: ServiceError) -> None:
    """Show a service's refusal next to the field it names, or above the form."""
    field = getattr(exc, "field", None)
    form.add_error(field if field in form.fields else None, error_message(exc))


def banner_service_error(request: HttpRequest, exc: ServiceError) -> None:
    messages.error(request, error_message(exc))


def refused_run(request: HttpRequest, exc: ServiceError, back: HttpResponse) -> HttpResponse:
    """A run that could not start: say why, then go `back`, or to the run that holds the
    stage when that is the reason (the second tab, a click after a slow reply)."""
    banner_service_error(request, exc)
    active = getattr(exc, "active", None)
    if active is not None:
        return redirect("deployment_detail", deployment_id=active.pk)
    return back
