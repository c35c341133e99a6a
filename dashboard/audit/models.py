"""The audit log's rows: append-only, each one sealed by a hash over its content and the hash
of the entry before it, so an edited, deleted or inserted row breaks the chain."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models

from dashboard.projects.models import Project
from dashboard.runs.models import AppendOnlyQuerySet, AppendOnlyRecord

GENESIS = "0" * 64
"""The `prev_hash` of the first entry: there is nothing before it."""


class AuditEntryQuerySet(AppendOnlyQuerySet):
    record = "audit entries"


AuditEntryManager = models.Manager.from_queryset(AuditEntryQuerySet)


class AuditEntry(AppendOnlyRecord):
    """One change: who made it, from where, to what, and what it changed (never a secret)."""

    class Source(models.TextChoices):
        WEB = "web", "Web"
        API = "api", "API"
        CLI = "cli", "Command line"
        WORKER = "worker", "Worker"

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    source = models.CharField(max_length=8, choices=Source.choices)
    address = models.CharField(max_length=64, blank=True)
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    project_name = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=32, db_index=True)
    target = models.CharField(max_length=256, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEntryManager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["project", "-id"], name="audit_project_recent")]

    def sealed_content(self) -> dict[str, Any]:
        """What the hash covers. The foreign keys are left out on purpose: deleting a user
        or a project nulls them, and that must not look like tampering; the names stay."""
        return {
            "at": self.at.isoformat(),
            "actor": self.actor_name,
            "source": self.source,
            "address": self.address,
            "project": self.project_name,
            "action": self.action,
            "target": self.target,
            "changes": self.changes,
            "prev_hash": self.prev_hash,
        }

    def computed_hash(self) -> str:
        canonical = json.dumps(
            self.sealed_content(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def as_row(self) -> dict[str, Any]:
        """The entry as the exports and the API show it."""
        return {
            "id": self.pk,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "actor": self.actor_name,
            "source": self.source,
            "address": self.address,
            "project": self.project_name,
            "action": self.action,
            "target": self.target,
            "changes": self.changes,
            "hash": self.hash,
        }
