"""Who may do what in a project: the role ranking and the one check every service makes."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied

from dashboard.access.models import ApiToken, Membership
from dashboard.projects.models import Project
from dashboard.runs.execution import os_user


class DeployTokenUser:
    """Who acts when a project's deploy token calls the API: no person, only the token.

    It passes where services expect a user (authenticated, not staff, no primary key), and
    `role_for` gives it the token's role in the token's project and nothing anywhere else.
    """

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, token: ApiToken) -> None:
        self.api_token = token

    def get_username(self) -> str:
        return f"token {self.api_token.name}"


User = AbstractBaseUser | AnonymousUser | DeployTokenUser


def acting_token(user: object) -> ApiToken | None:
    """The API token a request came with (set by the API's authentication), if any."""
    token = getattr(user, "api_token", None)
    return token if isinstance(token, ApiToken) else None


def acting_name(user: object) -> str:
    """How the record names who did something: "alice", "alice (token ci)", "token ci"."""
    token = acting_token(user)
    username = user.get_username()  # type: ignore[attr-defined]
    if token is None or isinstance(user, DeployTokenUser):
        return str(username)[:150]
    return f"{username} (token {token.name})"[:150]


def started_by(user: User | None) -> tuple[AbstractBaseUser | None, str]:
    """The person a run or a change is recorded as made by (None for the CLI and deploy
    tokens) and the name the record shows, which says which API token, if one was used."""
    if user is None:
        return None, f"cli:{os_user()}"
    if isinstance(user, DeployTokenUser | AnonymousUser):
        return None, acting_name(user)
    return user, acting_name(user)


ROLE_RANK = {Membership.Role.VIEWER: 0, Membership.Role.DEPLOYER: 1, Membership.Role.OWNER: 2}


EDIT_ROLE = Membership.Role.DEPLOYER


DEPLOY_ROLE = Membership.Role.DEPLOYER


OWNER = Membership.Role.OWNER


# --- permissions and versions ----------------------------------------------------------------
def role_for(*, project: Project, user: User | None) -> str | None:
    """The user's role in the project; staff act as owners, the CLI (None) too.

    Through an API token it is never more than the token allows: a deploy token has its role
    in its own project only; a personal token with a role is capped at that role.
    """
    if isinstance(user, DeployTokenUser):
        token = user.api_token
        return token.role if token.project_id == project.pk else None
    role = _person_role(project=project, user=user)
    token = acting_token(user)
    if role is None or token is None or not token.role:
        return role
    return min(role, token.role, key=lambda r: ROLE_RANK[r])  # type: ignore[index]


def _person_role(*, project: Project, user: AbstractBaseUser | AnonymousUser | None) -> str | None:
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
