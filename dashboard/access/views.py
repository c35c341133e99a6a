"""The members page: everyone in the project sees who is in it; owners invite existing
users, change roles and remove members; anyone may leave (the last owner may not). Owners
also make and revoke the project's deploy tokens there; personal API tokens have their own
page in the user menu. A new token is shown in the answer that made it, and nowhere else."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.access import services as access_services
from dashboard.access import tokens
from dashboard.access.forms import DeployTokenForm, MemberInviteForm, MemberRoleForm, TokenForm
from dashboard.access.models import Membership
from dashboard.errors import ServiceError
from dashboard.projects.models import Project
from dashboard.web.helpers import (
    add_service_error,
    banner_service_error,
    project_or_404,
    redirect_after_post,
    render_page,
    role_at_least,
)


def _members_url(project: Project) -> str:
    return reverse("member_list", args=[project.name])


@login_required
@require_http_methods(["GET", "POST"])
def member_list(request: HttpRequest, name: str) -> HttpResponse:
    """GET: the list (any member). POST: invite (owners)."""
    min_role = "owner" if request.method == "POST" else "viewer"
    project, role = project_or_404(request, name, min_role=min_role)
    form = MemberInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            access_services.member_invite(
                project=project,
                user=request.user,
                username=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            return redirect_after_post(request, _members_url(project))
    context = _members_context(request, project, role, form)
    status = 400 if form.errors else 200
    partial = "invite" if request.method == "POST" else "members"
    return render_page(request, "members/list.html", context, partial, status=status)


def _members_context(
    request: HttpRequest, project: Project, role: str, form: MemberInviteForm
) -> dict[str, Any]:
    members = Membership.objects.filter(project=project).select_related("user")
    can_manage = role_at_least(role, "owner")
    deploy_tokens = (
        [
            (t, tokens.token_status(t))
            for t in tokens.tokens_of_project(project=project, user=request.user)
        ]
        if can_manage
        else []
    )
    return {
        "project": project,
        "role": role,
        "can_manage": can_manage,
        "members": members.order_by("user__username"),
        "form": form,
        "roles": Membership.Role.choices,
        "deploy_tokens": deploy_tokens,
        "token_form": DeployTokenForm(),
    }


@login_required
@require_POST
def member_role(request: HttpRequest, name: str, member_id: int) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="owner")
    membership = get_object_or_404(Membership, project=project, pk=member_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        banner_service_error(request, ServiceError("choose viewer, deployer or owner"))
        return redirect_after_post(request, _members_url(project))
    try:
        access_services.member_set_role(
            membership=membership, user=request.user, role=form.cleaned_data["role"]
        )
    except ServiceError as exc:
        banner_service_error(request, exc)
    return redirect_after_post(request, _members_url(project))


@login_required
@require_POST
def member_remove(request: HttpRequest, name: str, member_id: int) -> HttpResponse:
    project, _role = project_or_404(request, name)
    membership = get_object_or_404(Membership, project=project, pk=member_id)
    leaving = membership.user_id == request.user.pk
    try:
        access_services.member_remove(membership=membership, user=request.user)
    except ServiceError as exc:
        banner_service_error(request, exc)
        return redirect_after_post(request, _members_url(project))
    return redirect_after_post(
        request, reverse("project_list") if leaving else _members_url(project)
    )


# --- API tokens ----------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """Your personal API tokens; a new one is shown on this answer only, never again."""
    form = TokenForm(request.POST or None)
    made = None
    if request.method == "POST" and form.is_valid():
        try:
            made = tokens.token_create_personal(user=request.user, **form.cleaned_data)
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            form = TokenForm()
    context = {
        "form": form,
        "made": made,
        "tokens": [(t, tokens.token_status(t)) for t in tokens.tokens_of_user(user=request.user)],
    }
    status = 400 if form.errors else 200
    return render(request, "access/tokens.html", context, status=status)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(tokens.tokens_of_user(user=request.user), pk=token_id)
    tokens.token_revoke(token=token, user=request.user)
    messages.success(request, f"Token {token.name} revoked: it no longer works.")
    return redirect_after_post(request, reverse("token_list"))


@login_required
@require_POST
def deploy_token_create(request: HttpRequest, name: str) -> HttpResponse:
    """Owners: a deploy token of the project, shown on the members page this once."""
    project, role = project_or_404(request, name, min_role="owner")
    token_form = DeployTokenForm(request.POST)
    made = None
    if token_form.is_valid():
        try:
            made = tokens.token_create_deploy(
                project=project, user=request.user, **token_form.cleaned_data
            )
        except ServiceError as exc:
            add_service_error(token_form, exc)
        else:
            token_form = DeployTokenForm()
    context = _members_context(request, project, role, MemberInviteForm())
    context.update(token_form=token_form, made=made)
    status = 400 if token_form.errors else 200
    return render(request, "members/list.html", context, status=status)


@login_required
@require_POST
def deploy_token_revoke(request: HttpRequest, name: str, token_id: int) -> HttpResponse:
    project, _role = project_or_404(request, name, min_role="owner")
    token = get_object_or_404(
        tokens.tokens_of_project(project=project, user=request.user), pk=token_id
    )
    tokens.token_revoke(token=token, user=request.user)
    messages.success(request, f"Deploy token {token.name} revoked: it no longer works.")
    return redirect_after_post(request, _members_url(project) + "#deploy-tokens")
