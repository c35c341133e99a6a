"""The members page: everyone in the project sees who is in it; owners invite existing
users, change roles and remove members; anyone may leave (the last owner may not)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.access import services as access_services
from dashboard.access.forms import MemberInviteForm, MemberRoleForm
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
    members = Membership.objects.filter(project=project).select_related("user")
    context = {
        "project": project,
        "role": role,
        "can_manage": role_at_least(role, "owner"),
        "members": members.order_by("user__username"),
        "form": form,
        "roles": Membership.Role.choices,
    }
    status = 400 if form.errors else 200
    partial = "invite" if request.method == "POST" else "members"
    return render_page(request, "members/list.html", context, partial, status=status)


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
