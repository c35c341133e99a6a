"""The audit record of every run (append-only once finished), the state it leaves, its intents."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import models

from dashboard.projects.models import Project, Stage


class AppendOnlyError(Exception):
    """Someone tried to change or delete part of the audit record."""


class AppendOnlyDeploymentQuerySet(models.QuerySet["Deployment"]):
    def update(self, **kwargs: Any) -> int:
        # Only queued or running rows change (the runner's conditional UPDATEs); finished ones never.
        return super(
            AppendOnlyDeploymentQuerySet, self.filter(status__in=["QUEUED", "RUNNING"])
        ).update(**kwargs)

    def delete(self) -> Any:
        raise AppendOnlyError("deployments are part of the audit record: they cannot be deleted")


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Rows that are written once and never changed or deleted (`record` names them)."""

    record = "rows of the audit record"

    def delete(self) -> Any:
        raise AppendOnlyError(f"{self.record} are append-only: they cannot be deleted")

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.record} are append-only: they cannot be changed")


class AppendOnlyEventQuerySet(AppendOnlyQuerySet):
    record = "deployment events"


class AppendOnlyRecord(models.Model):
    """A model whose rows are saved once: changing or deleting one raises AppendOnlyError."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(
                f"{self._meta.verbose_name_plural} are append-only: one cannot be changed"
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError(
            f"{self._meta.verbose_name_plural} are append-only: one cannot be deleted"
        )


AppendOnlyDeploymentManager = models.Manager.from_queryset(AppendOnlyDeploymentQuerySet)


AppendOnlyEventManager = models.Manager.from_queryset(AppendOnlyEventQuerySet)


class Deployment(models.Model):
    """One run: a plan, deploy, destroy or refresh of a stage. Never edited after it ends."""

    class Kind(models.TextChoices):
        PLAN = "plan", "Plan"
        DEPLOY = "deploy", "Deploy"
        DESTROY = "destroy", "Destroy"
        REFRESH = "refresh", "Refresh"
        SWEEP = "sweep", "Orphan sweep"

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"
        CANCELLED = "CANCELLED", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    # History outlives its stage (SET_NULL) and belongs to its project's identity, never its
    # name: a deleted project stays as a tombstone row, so PROTECT only stops a hard delete
    # that would orphan the record. The composite index below serves lookups by project.
    stage = models.ForeignKey(
        Stage, null=True, on_delete=models.SET_NULL, related_name="deployments"
    )
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="deployments", db_index=False
    )
    project_name = models.CharField(
        max_length=32, help_text="The project's name at the time, for display."
    )
    stage_name = models.CharField(max_length=16)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    triggered_by_name = models.CharField(max_length=150, blank=True)
    token = models.ForeignKey(
        "dashboard.ApiToken",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The API token the run was started with, if any (its name is in triggered_by_name).",
    )
    blueprint = models.JSONField(default=dict)
    plan = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Written every few seconds while RUNNING; stale means the worker died.",
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    # Audit: which plan a deploy carried out, which past run a redeploy restored,
    # and the fingerprint (blueprint snapshot + recorded state) a plan was made from.
    from_plan = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_deployment = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    plan_fingerprint = models.CharField(max_length=64, blank=True)
    # A deploy of a protected stage records the owner (not the requester) who
    # approved the plan it carries out (`from_plan`).
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by_name = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = AppendOnlyDeploymentManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["stage", "-created_at"]),
            # History pages: newest first per project and across projects (keyset on both).
            models.Index(
                fields=["project", "-created_at", "-id"], name="deployment_project_id_recent"
            ),
            models.Index(fields=["-created_at", "-id"], name="deployment_recent"),
        ]
        constraints = [
            # The stage lock: at most one active deploy or destroy per stage, enforced by the database.
            models.UniqueConstraint(
                fields=["stage"],
                condition=models.Q(
                    status__in=["QUEUED", "RUNNING"], kind__in=["deploy", "destroy"]
                ),
                name="one_active_run_per_stage",
            )
        ]

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and self.project_id is None and self.stage is not None:
            self.project_id = self.stage.project_id  # a run belongs to its stage's project
        # Append-only record: a finished run is never edited (the runner ends runs with
        # conditional UPDATEs, which do not come through here).
        if not self._state.adding and self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored is not None and stored not in self.ACTIVE:
                raise AppendOnlyError(
                    f"deployment #{self.pk} has finished: its record cannot change"
                )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError(
            f"deployment #{self.pk} is part of the audit record: it cannot be deleted"
        )

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class DeploymentEvent(AppendOnlyRecord):
    """Append-only: one progress event of a deployment (see DESIGN.md, "Progress event")."""

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    resource = models.CharField(max_length=256, blank=True, null=True)
    type = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=16)
    message = models.TextField(blank=True)
    elapsed_ms = models.PositiveIntegerField(null=True, blank=True)

    objects = AppendOnlyEventManager()

    class Meta:
        ordering = ["deployment", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "seq"], name="unique_event_seq")
        ]

    def as_message(self) -> dict[str, object]:
        message: dict[str, object] = {
            "seq": self.seq,
            "deployment": self.deployment_id,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "resource": self.resource,
            "type": self.type,
            "action": self.action,
            "status": self.status,
            "message": self.message,
            "elapsed_ms": self.elapsed_ms,
        }
        total = planned_total(resource=self.resource, status=self.status, message=self.message)
        if total is not None:
            message["total"] = total
        return message


# The engine opens a deploy, destroy or sweep with one run-level line saying what it will
# touch ("plan: 3 create, 1 no change, 2 update", "destroying 7 resources", "deleting 2
# orphans"). Read here, once, so the run page counts against the plan from its first frame.
_PLAN_LINE = re.compile(r"plan: (?P<parts>.+)")
_PLAN_PART = re.compile(r"(?P<n>\d+) (?P<action>[a-z ]+)")
_DELETE_LINE = re.compile(r"(?:destroying (?P<n>\d+) resources|deleting (?P<m>\d+) orphans)")
_UNTOUCHED = "no change"


def planned_total(*, resource: str | None, status: str, message: str) -> int | None:
    """How many resources the run will touch, when this event is the engine's opening line."""
    if resource is not None or status != "info":
        return None
    if message == "plan: nothing to do":
        return 0
    if plan := _PLAN_LINE.fullmatch(message):
        parts = [_PLAN_PART.fullmatch(part) for part in plan["parts"].split(", ")]
        if not all(parts):
            return None
        return sum(int(p["n"]) for p in parts if p is not None and p["action"] != _UNTOUCHED)
    if count := _DELETE_LINE.fullmatch(message):
        return int(count["n"] or count["m"])
    return None


class DeployedResource(models.Model):
    """What the engine recorded as existing in AWS for a stage (its state)."""

    # The only record of what AWS still holds: a stage goes only once a destroy has emptied
    # it, never by a cascade (projects.services says which stage to destroy first).
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="resources")
    logical_id = models.CharField(max_length=256)
    type = models.CharField(max_length=64)
    physical_id = models.CharField(max_length=2048)
    arn = models.CharField(max_length=2048, blank=True)
    node = models.CharField(max_length=64, blank=True)
    outputs = models.JSONField(default=dict)
    properties = models.JSONField(default=dict)
    properties_hash = models.CharField(max_length=64, blank=True)
    depends_on = models.JSONField(default=list)
    last_deployment = models.ForeignKey(
        Deployment, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    drift = models.JSONField(
        default=list,
        blank=True,
        help_text="Properties AWS no longer matches, per the last refresh.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["logical_id"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "logical_id"], name="unique_resource")
        ]


class PendingOperation(models.Model):
    """An intent: a create the engine started and has not yet recorded as done.

    Written before the AWS call and removed with the `DeployedResource` save that
    confirms it (one transaction). One left behind means a run died in between: the
    next run looks the resource up by its deterministic name instead of making it again,
    and a destroy deletes what it finds.
    """

    # A create that may have reached AWS: kept like a resource until a run settles it.
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="pending_operations")
    logical_id = models.CharField(max_length=256)
    type = models.CharField(max_length=64)
    node = models.CharField(max_length=64, blank=True)
    properties = models.JSONField(default=dict)
    depends_on = models.JSONField(default=list)
    deployment = models.ForeignKey(
        Deployment, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["logical_id"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "logical_id"], name="unique_pending_operation")
        ]
