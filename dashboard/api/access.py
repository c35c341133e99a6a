"""Members of a project, personal tokens and a project's deploy tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from dashboard.access import services as access_services
from dashboard.access import tokens
from dashboard.access.models import ApiToken, Membership
from dashboard.api.core import note_change, project_for, user_of
from dashboard.api.schemas import (
    DeployTokenIn,
    MemberIn,
    MemberOut,
    NewTokenOut,
    RoleIn,
    TokenIn,
    TokenOut,
    member_out,
    token_out,
)
from dashboard.projects.models import Project

router = Router(tags=["access"])


def _membership(project: Project, username: str) -> Membership:
    person = get_object_or_404(get_user_model(), username=username)
    return get_object_or_404(
        Membership.objects.select_related("user"), project=project, user=person
    )


# --- members -----------------------------------------------------------------------------------
@router.get("/projects/{name}/members", response=list[MemberOut])
def member_list(request: HttpRequest, name: str) -> list[dict[str, Any]]:
    project = project_for(request, name)
    members = Membership.objects.filter(project=project).select_related("user")
    return [member_out(m) for m in members.order_by("user__username")]


@router.post("/projects/{name}/members", response={201: MemberOut})
def member_invite(request: HttpRequest, name: str, payload: MemberIn) -> Status[dict[str, Any]]:
    project = project_for(request, name, min_role="owner")
    membership = access_services.member_invite(
        project=project, user=user_of(request), username=payload.username, role=payload.role
    )
    note_change(request, f"{payload.username} invited to {name} as {payload.role}")
    return Status(201, member_out(membership))


@router.patch("/projects/{name}/members/{username}", response=MemberOut)
def member_role(request: HttpRequest, name: str, username: str, payload: RoleIn) -> dict[str, Any]:
    project = project_for(request, name, min_role="owner")
    membership = access_services.member_set_role(
        membership=_membership(project, username), user=user_of(request), role=payload.role
    )
    note_change(request, f"{username} is now {payload.role} in {name}")
    return member_out(membership)


@router.delete("/projects/{name}/members/{username}", response={204: None})
def member_remove(request: HttpRequest, name: str, username: str) -> Status[None]:
    """Owners remove anyone; a member removes themselves (leaves)."""
    project = project_for(request, name)
    access_services.member_remove(membership=_membership(project, username), user=user_of(request))
    note_change(request, f"{username} left or was removed from {name}")
    return Status(204, None)


# --- personal tokens -----------------------------------------------------------------------------
@router.get("/tokens", response=list[TokenOut])
def token_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [token_out(t) for t in tokens.tokens_of_user(user=user_of(request))]


@router.post("/tokens", response={201: NewTokenOut})
def token_create(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    """A personal token; the answer holds it this once."""
    made = tokens.token_create_personal(
        user=user_of(request),
        name=payload.name,
        expires_in_days=payload.expires_in_days,
        role=payload.role,
    )
    note_change(request, f"personal token {made.token.name} made")
    return Status(201, {**token_out(made.token), "token": made.secret})


@router.delete("/tokens/{token_id}", response=TokenOut)
def token_revoke(request: HttpRequest, token_id: int) -> dict[str, Any]:
    token = get_object_or_404(tokens.tokens_of_user(user=user_of(request)), pk=token_id)
    revoked = tokens.token_revoke(token=token, user=user_of(request))
    note_change(request, f"personal token {token.name} revoked")
    return token_out(revoked)


# --- deploy tokens -------------------------------------------------------------------------------
@router.get("/projects/{name}/tokens", response=list[TokenOut])
def deploy_token_list(request: HttpRequest, name: str) -> list[dict[str, Any]]:
    project = project_for(request, name, min_role="owner")
    return [token_out(t) for t in tokens.tokens_of_project(project=project, user=user_of(request))]


@router.post("/projects/{name}/tokens", response={201: NewTokenOut})
def deploy_token_create(
    request: HttpRequest, name: str, payload: DeployTokenIn
) -> Status[dict[str, Any]]:
    """Owners: a token for this project alone, with its own role; the answer holds it once."""
    project = project_for(request, name, min_role="owner")
    made = tokens.token_create_deploy(
        project=project,
        user=user_of(request),
        name=payload.name,
        role=payload.role,
        expires_in_days=payload.expires_in_days,
    )
    note_change(request, f"deploy token {made.token.name} of {name} made")
    return Status(201, {**token_out(made.token), "token": made.secret})


@router.delete("/projects/{name}/tokens/{token_id}", response=TokenOut)
def deploy_token_revoke(request: HttpRequest, name: str, token_id: int) -> dict[str, Any]:
    project = project_for(request, name, min_role="owner")
    token = get_object_or_404(ApiToken.objects.filter(project=project), pk=token_id)
    revoked = tokens.token_revoke(token=token, user=user_of(request))
    note_change(request, f"deploy token {token.name} of {name} revoked")
    return token_out(revoked)
