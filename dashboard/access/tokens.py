"""API tokens: made (shown once), listed, revoked, and recognised on each request.

A token is `sdp_` and 40 URL-safe random characters. Only its SHA-256 digest is stored, with
8 characters after the `sdp_` so a list can tell tokens apart; the token itself is in no row
and no log line. A personal token acts as its user, capped at a role if one is chosen; a
deploy token reaches one project with one role and is managed by that project's owners.
Every token expires (one year at most) and can be revoked; a revoked or expired token, or
one whose project was deleted, is refused like an unknown one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from dashboard import rate_limits
from dashboard.access.models import ApiToken, Membership
from dashboard.access.roles import OWNER, DeployTokenUser, User, require_role
from dashboard.audit import services as audit_log
from dashboard.errors import ServiceError
from dashboard.projects.models import Project

PREFIX = "sdp_"
RANDOM_CHARS = 40
MAX_DAYS = 365
TOKEN_SHAPE = re.compile(rf"{PREFIX}[A-Za-z0-9_-]{{{RANDOM_CHARS}}}")
NAME_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}")
LAST_USED_EVERY = timedelta(minutes=1)  # at most one write per token a minute


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A token just made: `secret` is the only copy, to show the user once."""

    token: ApiToken
    secret: str


# --- making and revoking -----------------------------------------------------------------------
def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_SHAPE.fullmatch(name):
        raise ServiceError(
            "a token's name is 1-64 letters, digits, spaces, dots, dashes or underscores",
            field="name",
        )
    return name


def _clean_days(days: int) -> timedelta:
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ServiceError(
            f"a token expires after 1 to {MAX_DAYS} days: every token has an end",
            field="expires_in_days",
        )
    return timedelta(days=days)


def _clean_role(role: str, *, required: bool) -> str:
    if not role and not required:
        return ""
    if role not in Membership.Role.values:
        raise ServiceError(f"{role!r} is not a role: viewer, deployer or owner", field="role")
    return role


def _make(*, by: User, **fields: object) -> NewToken:
    raw = PREFIX + secrets.token_urlsafe(RANDOM_CHARS * 3 // 4)
    token = ApiToken.objects.create(digest=digest(raw), prefix=raw[len(PREFIX) :][:8], **fields)
    audit_log.entry_for_row(action="token.create", row=token, user=by)
    return NewToken(token, raw)


@transaction.atomic
def token_create_personal(
    *, user: User, name: str, expires_in_days: int, role: str = ""
) -> NewToken:
    """A token that acts as `user` (a person, signed in or holding a personal token)."""
    if isinstance(user, DeployTokenUser) or not user.is_authenticated:
        raise PermissionDenied("personal tokens are made by a person, not a deploy token")
    name = _clean_name(name)
    if ApiToken.objects.filter(user=user, name=name, revoked_at__isnull=True).exists():
        raise ServiceError(f"you already have a token named {name!r}", field="name")
    return _make(
        by=user,
        name=name,
        user=user,
        role=_clean_role(role, required=False),
        created_by=user,
        expires_at=timezone.now() + _clean_days(expires_in_days),
    )


@transaction.atomic
def token_create_deploy(
    *, project: Project, user: User, name: str, role: str, expires_in_days: int
) -> NewToken:
    """A deploy token of `project` (owners only): no person behind it, only its role there."""
    require_role(project=project, user=user, role=OWNER)
    if isinstance(user, DeployTokenUser):
        raise PermissionDenied("a deploy token cannot make other tokens")
    name = _clean_name(name)
    if ApiToken.objects.filter(project=project, name=name, revoked_at__isnull=True).exists():
        raise ServiceError(
            f"{project.name} already has a deploy token named {name!r}", field="name"
        )
    return _make(
        by=user,
        name=name,
        project=project,
        role=_clean_role(role, required=True),
        created_by=user if getattr(user, "pk", None) else None,
        expires_at=timezone.now() + _clean_days(expires_in_days),
    )


@transaction.atomic
def token_revoke(*, token: ApiToken, user: User) -> ApiToken:
    """Personal tokens by their user; deploy tokens by the project's owners. Done at once."""
    if token.project is not None:
        require_role(project=token.project, user=user, role=OWNER)
    elif getattr(user, "pk", None) != token.user_id:
        raise PermissionDenied("only its owner revokes a personal token")
    if token.revoked_at is None:
        audit_log.entry_record(
            action="token.revoke", user=user, project=token.project, target=token.name
        )
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
        token.refresh_from_db()
    return token


# --- reading -----------------------------------------------------------------------------------
def tokens_of_user(*, user: User) -> QuerySet[ApiToken]:
    if isinstance(user, DeployTokenUser) or not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)


def tokens_of_project(*, project: Project, user: User) -> QuerySet[ApiToken]:
    """A project's deploy tokens: only its owners see them."""
    require_role(project=project, user=user, role=OWNER)
    return ApiToken.objects.filter(project=project)


def token_status(token: ApiToken) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= timezone.now():
        return "expired"
    return "active"


# --- recognising a request's token ---------------------------------------------------------------
class TokenRefused(Exception):
    """The bearer token is not one that may be used: said without showing any of it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def token_authenticate(raw: str) -> ApiToken:
    """The live token `raw` is, or TokenRefused (unknown, expired or revoked)."""
    if not TOKEN_SHAPE.fullmatch(raw or ""):
        raise TokenRefused("that is not a Strands Deploy token (sdp_ and 40 characters)")
    token = ApiToken.objects.select_related("user", "project").filter(digest=digest(raw)).first()
    if token is None:
        raise TokenRefused("unknown token")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRefused(f"the token {token.name} was revoked")
    if token.expires_at <= now:
        raise TokenRefused(f"the token {token.name} has expired: make a new one")
    if token.project is not None and token.project.is_deleted:
        raise TokenRefused(f"the project of the token {token.name} was deleted")
    if token.user is not None and not token.user.is_active:
        raise TokenRefused(f"the account of the token {token.name} is disabled")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def acting_user(token: ApiToken) -> User:
    """Whom the services see: the token's user, marked with the token, or the deploy token."""
    if token.user is None:
        return DeployTokenUser(token)
    person = token.user
    person.api_token = token  # type: ignore[attr-defined]  # read by roles.acting_token
    return person


# --- the rate limit ------------------------------------------------------------------------------
def rate_per_minute() -> int:
    return int(getattr(settings, "API_RATE_PER_MIN", 120))


def rate_limit_wait(token: ApiToken) -> int:
    """Count one request of the token; 0 if within its limit a minute, else the seconds until
    the next window opens."""
    return rate_limits.wait_after_counting(f"api:{token.pk}", rate_per_minute())
