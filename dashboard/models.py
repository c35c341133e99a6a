"""The dashboard's data: projects and what they contain, and the audit record of every run."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

# A name that fits every AWS name it becomes part of (the prefix and a hash are added).
NAME_PATTERN = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$"
NAME_HELP = "1-32 characters: lowercase letters, digits and hyphens; starts with a letter."
name_validator = RegexValidator(NAME_PATTERN, NAME_HELP)


class Project(models.Model):
    name = models.CharField(max_length=32, unique=True, validators=[name_validator], help_text=NAME_HELP)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Bumped on every edit; stale writes are refused.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    class Target(models.TextChoices):
        SANDBOX = "sandbox", "Sandbox (local AWS emulator)"
        AWS = "aws", "AWS account"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=16, validators=[name_validator], default="dev")
    region = models.CharField(max_length=32, default="us-east-1")
    target = models.CharField(max_length=16, choices=Target.choices, default=Target.SANDBOX)
    role_arn = models.CharField(max_length=2048, blank=True)
    external_id = models.CharField(max_length=1224, blank=True)
    settings = models.JSONField(
        default=dict,
        blank=True,
        help_text='Stage-wide engine options, e.g. {"network": {...}, "log_retention_days": 14}.',
    )

    class Meta:
        ordering = ["project", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="unique_stage_name")]

    def __str__(self) -> str:
        return f"{self.project.name}/{self.name}"


class Membership(models.Model):
    class Role(models.TextChoices):
        VIEWER = "viewer", "Viewer"
        DEPLOYER = "deployer", "Deployer"
        OWNER = "owner", "Owner"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="unique_membership")]


class CanvasNode(models.Model):
    """What agents and components share: a name in the project and a place on the canvas."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=32, validators=[name_validator], help_text=NAME_HELP)
    x = models.IntegerField(default=0)
    y = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Agent(CanvasNode):
    class Runtime(models.TextChoices):
        PY312 = "python3.12", "Python 3.12"
        PY313 = "python3.13", "Python 3.13"

    class Architecture(models.TextChoices):
        X86_64 = "x86_64", "x86_64"
        ARM64 = "arm64", "arm64 (Graviton)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="agents")
    description = models.TextField(blank=True)
    model_id = models.CharField(max_length=128, default="global.anthropic.claude-sonnet-4-6")
    system_prompt = models.TextField(default="You are a helpful assistant.")
    tools = models.JSONField(default=list, blank=True)
    runtime = models.CharField(max_length=16, choices=Runtime.choices, default=Runtime.PY312)
    architecture = models.CharField(max_length=8, choices=Architecture.choices, default=Architecture.X86_64)
    memory_mb = models.PositiveIntegerField(
        default=1024, validators=[MinValueValidator(128), MaxValueValidator(10240)]
    )
    timeout_s = models.PositiveIntegerField(default=120, validators=[MinValueValidator(1), MaxValueValidator(900)])
    environment = models.JSONField(default=dict, blank=True)
    reserved_concurrency = models.PositiveIntegerField(null=True, blank=True)
    tracing = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="unique_agent_name")]

    @property
    def key(self) -> str:
        return f"agent:{self.name}"

    def __str__(self) -> str:
        return self.name


class Component(CanvasNode):
    class Kind(models.TextChoices):
        BUCKET = "bucket", "S3 bucket"
        TABLE = "table", "DynamoDB table"
        QUEUE = "queue", "SQS queue"
        TOPIC = "topic", "SNS topic"
        HTTP_API = "http_api", "HTTP API"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="components")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    settings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "kind", "name"], name="unique_component_name")]

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"


class Link(models.Model):
    """A connection on the canvas between two nodes, named by their keys ("agent:support")."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="links")
    source = models.CharField(max_length=64)
    target = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "source", "target"], name="unique_link")]


class Deployment(models.Model):
    """One run: a plan, deploy, destroy or refresh of a stage. Never edited after it ends."""

    class Kind(models.TextChoices):
        PLAN = "plan", "Plan"
        DEPLOY = "deploy", "Deploy"
        DESTROY = "destroy", "Destroy"

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"
        CANCELLED = "CANCELLED", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    # PROTECT-free on purpose: history outlives its project (names are kept on the row).
    stage = models.ForeignKey(Stage, null=True, on_delete=models.SET_NULL, related_name="deployments")
    project_name = models.CharField(max_length=32, db_index=True)
    stage_name = models.CharField(max_length=16)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    triggered_by_name = models.CharField(max_length=150, blank=True)
    blueprint = models.JSONField(default=dict)
    plan = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Written every few seconds while RUNNING; stale means the worker died."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["stage", "-created_at"])]
        constraints = [
            # The stage lock: at most one active deploy or destroy per stage, enforced by the database.
            models.UniqueConstraint(
                fields=["stage"],
                condition=models.Q(status__in=["QUEUED", "RUNNING"], kind__in=["deploy", "destroy"]),
                name="one_active_run_per_stage",
            )
        ]

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class DeploymentEvent(models.Model):
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

    class Meta:
        ordering = ["deployment", "seq"]
        constraints = [models.UniqueConstraint(fields=["deployment", "seq"], name="unique_event_seq")]

    def as_message(self) -> dict[str, object]:
        return {
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


class DeployedResource(models.Model):
    """What the engine recorded as existing in AWS for a stage (its state)."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="resources")
    logical_id = models.CharField(max_length=256)
    type = models.CharField(max_length=64)
    physical_id = models.CharField(max_length=2048)
    arn = models.CharField(max_length=2048, blank=True)
    node = models.CharField(max_length=64, blank=True)
    outputs = models.JSONField(default=dict)
    properties = models.JSONField(default=dict)
    properties_hash = models.CharField(max_length=64, blank=True)
    depends_on = models.JSONField(default=list)
    last_deployment = models.ForeignKey(Deployment, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["logical_id"]
        constraints = [models.UniqueConstraint(fields=["stage", "logical_id"], name="unique_resource")]
