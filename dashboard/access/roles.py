"""Who may do what in a project: the role ranking and the one check every service makes."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied

from dashboard.access.models import Membership
from dashboard.projects.models import Project

User = AbstractBaseUser | AnonymousUser


ROLE_RANK = {Membership.Role.VIEWER: 0, Membership.Role.DEPLOYER: 1, Membership.Role.OWNER: 2}


EDIT_ROLE = Membership.Role.DEPLOYER


DEPLOY_ROLE = Membership.Role.DEPLOYER


# --- permissions and versions ----------------------------------------------------------------
def role_for(*, project: Project, user: User | None) -> str | None:
    """The user's role in the project; staff act as owners, the CLI (None) too."""
    if user is None or getattr(user, "is_staff", False):
        return Membership.Role.OWNER
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
    )


def require_role(*, project: Project, user: User | None, role: str) -> None:
    have = role_for(project=project, user=user)
    if have is None or ROLE_RANK[have] < ROLE_RANK[role]:
        raise PermissionDenied(f"you need the {role} role in {project.name} for this")
