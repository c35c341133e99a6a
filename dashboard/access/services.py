"""Writes about who may do what: members, stage settings, approvals, secret variables.

Same conventions as services.py (keyword-only, the acting user, `ServiceError` for what
the user can fix, `PermissionDenied` for a role too low). Rules:
- owners invite existing users, change roles and remove members; anyone may leave;
  the last owner can neither leave nor be demoted;
- stage settings are the owners'; static keys are write-only (blank keeps them);
- a protected stage deploys only a plan an owner approved who did not ask for it,
  and cannot be destroyed until protection is off.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from dashboard.access import secrets
from dashboard.access.models import Membership
from dashboard.access.roles import DeployTokenUser, User, require_role, role_for
from dashboard.audit import services as audit_log
from dashboard.errors import ServiceError
from dashboard.notifications import dispatch as notifications
from dashboard.projects import aws_fields
from dashboard.projects.models import Project, Stage
from dashboard.projects.validation import RuleError, clean_environment, clean_settings
from dashboard.runs.models import Deployment
from dashboard.runs.services import deployment_start, started_by
from provisioning.model import schema

OWNER = Membership.Role.OWNER
STAGE_FIELDS = frozenset(
    {
        "region", "target", "role_arn", "external_id", "protected", "permissions_boundary",
        "access_key_id", "secret_access_key", "clear_static_keys", "settings",
    }
)  # fmt: skip


# --- members ---------------------------------------------------------------------------------
def _owners(project: Project) -> int:
    return Membership.objects.filter(project=project, role=OWNER).count()


def _check_role(role: str) -> str:
    if role not in Membership.Role.values:
        raise ServiceError(f"{role!r} is not a role: viewer, deployer or owner", field="role")
    return role


@transaction.atomic
def member_invite(*, project: Project, user: User | None, username: str, role: str) -> Membership:
    require_role(project=project, user=user, role=OWNER)
    _check_role(role)
    invited = get_user_model().objects.filter(username=username.strip()).first()
    if invited is None:
        raise ServiceError(f"there is no user named {username.strip()[:150]!r}", field="username")
    if Membership.objects.filter(project=project, user=invited).exists():
        raise ServiceError(f"{invited.get_username()} is already a member", field="username")
    membership = Membership.objects.create(project=project, user=invited, role=role)
    audit_log.entry_for_row(action="member.invite", row=membership, user=user)
    return membership


@transaction.atomic
def member_set_role(*, membership: Membership, user: User | None, role: str) -> Membership:
    require_role(project=membership.project, user=user, role=OWNER)
    _check_role(role)
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.role == OWNER and role != OWNER and _owners(locked.project) <= 1:
        raise ServiceError(
            "the last owner cannot be demoted: make someone else an owner first", field="role"
        )
    locked.role = role
    audit_log.entry_for_row(action="member.role", row=locked, user=user)
    locked.save(update_fields=["role"])
    return locked


@transaction.atomic
def member_remove(*, membership: Membership, user: User | None) -> None:
    """Owners remove anyone; every member may remove themselves (leave)."""
    leaving = user is not None and getattr(user, "pk", None) == membership.user_id
    if not leaving:
        require_role(project=membership.project, user=user, role=OWNER)
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.role == OWNER and _owners(locked.project) <= 1:
        raise ServiceError("the last owner cannot leave: make someone else an owner first")
    audit_log.entry_for_row(action="member.remove", row=locked, user=user)
    locked.delete()


# --- stage settings --------------------------------------------------------------------------
def _clean(check: Any, value: Any, field: str) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise ServiceError(str(exc), field=field) from None


@transaction.atomic
def stage_update(*, stage: Stage, user: User | None, data: dict[str, Any]) -> Stage:
    require_role(project=stage.project, user=user, role=OWNER)
    unknown = sorted(set(data) - STAGE_FIELDS)
    if unknown:
        raise ServiceError(f"a stage has no setting {unknown[0]!r}", field=unknown[0])
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    if "target" in data:
        if data["target"] not in Stage.Target.values:
            raise ServiceError("the target is the sandbox or an AWS account", field="target")
        stage.target = data["target"]
    checks = {
        "region": aws_fields.clean_region,
        "role_arn": aws_fields.clean_role_arn,
        "external_id": aws_fields.clean_external_id,
        "permissions_boundary": aws_fields.clean_policy_arn,
    }
    for field, check in checks.items():
        if field in data:
            setattr(stage, field, _clean(check, data[field], field))
    if "protected" in data:
        stage.protected = bool(data["protected"])
    if "settings" in data:
        stage.settings = _stage_settings(stage, data["settings"])
    _static_keys(stage, data)
    audit_log.entry_for_stage(stage=stage, user=user)
    stage.save()
    return stage


def _stage_settings(stage: Stage, given: Any) -> dict[str, Any]:
    """The schema's check (an overlap with `avoid_cidrs` shows on the plan page)."""
    if not isinstance(given, dict):
        raise ServiceError("settings must be a mapping of setting: value", field="settings")
    try:
        cleaned = clean_settings(schema.StageSettings, given)
    except RuleError as exc:
        raise ServiceError(exc.message, field=exc.field) from None
    cleaned.pop("permissions_boundary", None)  # the stage's own column holds it
    return cleaned


def _static_keys(stage: Stage, data: dict[str, Any]) -> None:
    """Write-only: a blank field keeps what is stored; both keys are given together."""
    if data.get("clear_static_keys"):
        stage.access_key_id_sealed = stage.secret_access_key_sealed = ""
        return
    key_id = _clean(aws_fields.clean_access_key_id, data.get("access_key_id", ""), "access_key_id")
    secret = _clean(
        aws_fields.clean_secret_access_key, data.get("secret_access_key", ""), "secret_access_key"
    )
    if bool(key_id) != bool(secret):
        field = "secret_access_key" if key_id else "access_key_id"
        raise ServiceError("give both the access key id and its secret, or neither", field=field)
    if key_id:
        stage.access_key_id_sealed = secrets.seal(key_id)
        stage.secret_access_key_sealed = secrets.seal(secret)


# --- protected stages ------------------------------------------------------------------------


def deployment_approve(*, plan: Deployment, user: User | None) -> Deployment:
    """An owner who did not ask for the plan approves it: its snapshot is deployed."""
    stage = plan.stage
    if stage is None:
        raise ServiceError("the stage of this plan no longer exists")
    require_role(project=stage.project, user=user, role=OWNER)
    if isinstance(user, DeployTokenUser):
        raise PermissionDenied("a plan is approved by a person: use a personal token")
    if plan.kind != Deployment.Kind.PLAN or plan.status != Deployment.Status.SUCCEEDED:
        raise ServiceError(f"#{plan.pk} is not a finished plan: only a plan can be approved")
    if user is None or plan.triggered_by_id is None or plan.triggered_by_id == user.pk:
        raise ServiceError(
            "a plan is approved by a second person: an owner other than the one who asked"
        )
    newer = Deployment.objects.filter(
        stage=stage, kind=Deployment.Kind.PLAN, created_at__gt=plan.created_at
    ).exists()
    if newer:
        raise ServiceError(f"a newer plan of {stage} exists: approve that one")
    approver, name = started_by(user)
    audit = {
        "from_plan": plan,
        "approved_by": approver,
        "approved_by_name": name,
        "approved_at": timezone.now(),
    }
    deploy = deployment_start(
        stage=stage, kind=Deployment.Kind.DEPLOY, user=user, snapshot=plan.blueprint, audit=audit
    )
    notifications.approval_given(deploy)
    return deploy


def can_approve(*, plan: Deployment, user: User | None) -> bool:
    stage = plan.stage
    return (
        stage is not None
        and plan.kind == Deployment.Kind.PLAN
        and plan.status == Deployment.Status.SUCCEEDED
        and user is not None
        and plan.triggered_by_id not in (None, getattr(user, "pk", None))
        and role_for(project=stage.project, user=user) == OWNER
    )


# --- secret environment variables ------------------------------------------------------------
KEEP = None
"""A secret given as None keeps the value stored under that name (the form shows a mask)."""


def clean_secret_environment(
    given: Any, stored: dict[str, str], plain: dict[str, str]
) -> dict[str, str]:
    """NAME -> value (or KEEP) from the user -> NAME -> sealed token; names left out go."""
    if given in (None, ""):
        return {}
    if not isinstance(given, dict):
        raise ServiceError("secret variables must be NAME=value pairs", field="secret_environment")
    try:
        names = clean_environment(dict.fromkeys(given, ""))
    except RuleError as exc:
        raise ServiceError(exc.message, field="secret_environment") from None
    sealed: dict[str, str] = {}
    for name, value in zip(names, given.values(), strict=True):
        if name in plain:
            raise ServiceError(
                f"{name} is both a plain and a secret variable", field="secret_environment"
            )
        sealed[name] = _seal_one(name, value, stored)
    return sealed


def _seal_one(name: str, value: Any, stored: dict[str, str]) -> str:
    if value is KEEP:
        if name not in stored:
            raise ServiceError(f"give {name} a value", field="secret_environment")
        return stored[name]
    text = str(value)
    if len(text) < secrets.MIN_LENGTH:
        raise ServiceError(
            f"{name}: a secret has at least {secrets.MIN_LENGTH} characters",
            field="secret_environment",
        )
    return secrets.seal(text)
