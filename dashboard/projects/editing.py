"""How every write to a project's blueprint is made: the project's row lock, a version bump
that turns a stale tab's write into a clear refusal, and a full check before saving."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import F, JSONField, Model

from dashboard.access.roles import EDIT_ROLE, User, require_role
from dashboard.errors import ServiceError, StaleWrite
from dashboard.json_input import value_problem
from dashboard.projects.models import Project


def _lock_project(project_id: int, version: int | None) -> Project:
    project = Project.objects.select_for_update().get(pk=project_id)
    if version is not None and int(version) != project.version:
        raise StaleWrite(
            f"{project.name} was changed by someone else since you opened it "
            f"(version {version}, now {project.version}): reload to see their changes"
        )
    return project


def _bump(project: Project) -> None:
    Project.objects.filter(pk=project.pk).update(version=F("version") + 1)
    project.refresh_from_db(fields=["version"])


def edit(project: Project, user: User | None, version: int | None) -> Project:
    """Call inside a transaction: check the role, lock the row, refuse stale writes, bump."""
    require_role(project=project, user=user, role=EDIT_ROLE)
    locked = _lock_project(project.pk, version)
    _bump(locked)
    project.version = locked.version
    return locked


def save(instance: Model) -> None:
    """full_clean (fields and constraints) then save, as one ServiceError per first problem."""
    _refuse_unstorable(instance)
    try:
        instance.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        field = None if field == "__all__" else field
        message = messages[0]
        if "already exists" in message or "constraint" in message:
            name = getattr(instance, "name", "")
            message = f"the name {name!r} is already used in this project"
            field = "name"
        raise ServiceError(message, field=field) from None
    instance.save()


def _refuse_unstorable(instance: Model) -> None:
    # Forms refuse NUL and fill in blanks, but the canvas API, project files and the CLI
    # bypass them, and full_clean does not look at a blank field's null, [] or {}. The
    # database refuses those where it wants a number or NOT NULL, and PostgreSQL refuses
    # NUL in text and in JSON: each would be a 500, not a message.
    for field in instance._meta.concrete_fields:
        value = field.value_from_object(instance)
        automatic = field.primary_key or any(
            getattr(field, flag, False) for flag in ("auto_now", "auto_now_add")
        )
        if value is None and not field.null and not automatic:
            raise ServiceError(f"{field.name}: must have a value, not null", field=field.name)
        if isinstance(value, list | dict) and not isinstance(field, JSONField):
            raise ServiceError(
                f"{field.name}: must be a single value, not a list or an object", field=field.name
            )
        where, problem = value_problem(value)
        if problem:
            where = f"{field.name}.{where}" if where else field.name
            raise ServiceError(f"{where}: {problem}", field=field.name)
