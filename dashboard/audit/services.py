"""Writing the audit log: one entry per change, in the transaction of the change itself.

The services call these in one line each: `entry_for_row` before an update or a delete (the
stored row is the "before") and after a create; `entry_record` when the change is not a row
(a revoked token, an applied project file). What changed is recorded per field, but a secret,
a static key, a sealed value or a token only ever as "set", "rotated" or "cleared".

Entries form one chain: each one's hash covers the hash of the one before. Appends are
serialized so two writers cannot both extend the same head: on PostgreSQL by a transaction-
scoped advisory lock taken before the head is read; SQLite lets one writer at a time anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from dashboard.access import secrets
from dashboard.access.roles import User, started_by
from dashboard.audit import context
from dashboard.audit.models import GENESIS, AuditEntry
from dashboard.projects.models import Agent, Component, Link, Project, Stage
from dashboard.runs.models import Deployment
from provisioning.model import schema

# A transaction-scoped PostgreSQL advisory lock key of our own (any constant will do).
CHAIN_LOCK = 0x5D_A0D17

# Bookkeeping columns a person did not change; `digest`/`prefix` identify a token.
UNRECORDED = frozenset(
    {"id", "version", "created_at", "updated_at", "deleted_at", "last_used_at", "digest", "prefix"}
)
# Columns holding sealed values or credentials: recorded as set / rotated / cleared only.
SEALED_COLUMNS = frozenset(
    {"access_key_id_sealed", "secret_access_key_sealed", "external_id", "secret_environment"}
)
CREDENTIALS = frozenset(
    {"access_key_id_sealed", "secret_access_key_sealed", "role_arn", "external_id"}
)


# --- appending -----------------------------------------------------------------------------
def entry_record(
    *,
    action: str,
    user: User | None,
    project: Project | None = None,
    target: str = "",
    changes: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry (inside the caller's transaction: a refused write records nothing)."""
    actor, actor_name = started_by(user)
    with transaction.atomic():
        _lock_chain()
        head = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
        entry = AuditEntry(
            at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=actor_name,
            source=context.source.get(),
            address=context.address.get()[:64],
            project=project,
            project_name=project.name if project is not None else "",
            action=action,
            target=str(target)[:256],
            changes=_plain(secrets.redact(dict(changes or {}))),
            prev_hash=head or GENESIS,
        )
        entry.hash = entry.computed_hash()
        entry.save()
    return entry


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])


def _plain(value: Any) -> Any:
    """As the JSON column gives it back (dates as text), so the hash made now still matches."""
    return json.loads(json.dumps(value, default=str))


# --- rows: what changed ------------------------------------------------------------------
def entry_for_row(*, action: str, row: Model, user: User | None) -> AuditEntry:
    """Record a create (call after saving), an update or a delete (call before the write)."""
    verb = action.rsplit(".", 1)[-1]
    stored = None if verb == "create" else type(row)._base_manager.filter(pk=row.pk).first()
    before = _values(stored) if stored is not None else {}
    after = {} if verb == "delete" else _values(row)
    return entry_record(
        action=action,
        user=user,
        project=_project_of(row),
        target=_target_of(row),
        changes=changes_between(before, after, sealed=_sealed_keys(row)),
    )


def entry_for_stage(*, stage: Stage, user: User | None) -> AuditEntry:
    """A stage's settings before they are saved: named by the weightiest thing that changed."""
    stored = Stage.objects.filter(pk=stage.pk).first() if stage.pk else None
    before = _values(stored) if stored is not None else {}
    changes = changes_between(before, _values(stage), sealed=_sealed_keys(stage))
    if stored is None:
        action = "stage.create"
    elif changes.keys() & CREDENTIALS:
        action = "stage.credentials"
    elif "protected" in changes:
        action = "stage.protection"
    else:
        action = "stage.update"
    return entry_record(
        action=action, user=user, project=stage.project, target=stage.name, changes=changes
    )


def entry_for_run(*, deployment: Deployment, user: User | None) -> AuditEntry:
    """A run started: an orphan sweep deletes orphans, an approval starts the approved deploy."""
    changes: dict[str, Any] = {"run": deployment.pk, "kind": deployment.kind}
    if deployment.kind == Deployment.Kind.SWEEP:
        action = "orphan.delete"
        changes["orphans"] = [o.get("arn") for o in (deployment.plan or {}).get("orphans", [])]
    elif deployment.approved_by_name:
        action = "approval.give"
        changes["plan"] = deployment.from_plan_id
    else:
        action = "run.start"
    return entry_record(
        action=action,
        user=user,
        project=deployment.project,
        target=deployment.stage_name,
        changes=changes,
    )


def changes_between(
    before: Mapping[str, Any], after: Mapping[str, Any], *, sealed: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Per field that differs: {"before", "after"}, or for a sealed one how it changed."""
    changes: dict[str, Any] = {}
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key in sealed or key.split(".", 1)[0] in SEALED_COLUMNS:
            changes[key] = "set" if not old else "cleared" if not new else "rotated"
        elif old in (None, "", [], {}) and not before:
            changes[key] = {"after": new}
        elif new in (None, "", [], {}) and not after:
            changes[key] = {"before": old}
        else:
            changes[key] = {"before": old, "after": new}
    return {k: v for k, v in changes.items() if v not in ({"after": None}, {"before": None})}


def _values(row: Model) -> dict[str, Any]:
    """The row's own columns (mappings spread out one level, "settings.memory_mb")."""
    values: dict[str, Any] = {}
    for field in row._meta.concrete_fields:
        if field.is_relation or field.name in UNRECORDED:
            continue
        value = field.value_from_object(row)
        if isinstance(value, dict):
            values.update({f"{field.name}.{k}": v for k, v in value.items()})
        else:
            values[field.name] = value
    return values


def _sealed_keys(row: Model) -> frozenset[str]:
    """Settings the schema marks secret, as `_values` names them."""
    if isinstance(row, Component) and row.kind in schema.COMPONENTS:
        return frozenset(f"settings.{n}" for n in schema.secret_names(schema.COMPONENTS[row.kind]))
    if isinstance(row, Agent):
        return frozenset(f"settings.{n}" for n in schema.secret_names(schema.AgentSettings))
    return frozenset()


def _project_of(row: Model) -> Project | None:
    if isinstance(row, Project):
        return row
    project = getattr(row, "project", None)
    return project if isinstance(project, Project) else None


def _target_of(row: Model) -> str:
    if isinstance(row, Agent | Component):
        return row.key
    if isinstance(row, Link):
        return f"{row.source} -> {row.target}"
    person = getattr(row, "user", None)
    if person is not None and hasattr(row, "role") and not hasattr(row, "digest"):
        return str(person.get_username())  # a membership names its member
    return str(getattr(row, "name", "") or row.pk)
