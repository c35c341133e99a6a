"""Projects and what they contain: stages, agents, components and the links between them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from provisioning.model import bounds, schema

# A name that fits every AWS name it becomes part of (the prefix and a hash are added).
NAME_PATTERN = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$"


NAME_HELP = "1-32 characters: lowercase letters, digits and hyphens; starts with a letter."


name_validator = RegexValidator(NAME_PATTERN, NAME_HELP)


def _validators(bound: bounds.Bound) -> list[MinValueValidator | MaxValueValidator]:
    return [MinValueValidator(bound.low), MaxValueValidator(bound.high)]


class LiveProjectManager(models.Manager["Project"]):
    """Projects that have not been deleted: every lookup by name or membership sees only these."""

    def get_queryset(self) -> models.QuerySet[Project]:
        return super().get_queryset().filter(deleted_at__isnull=True)


class Project(models.Model):
    """A project; once deleted, a tombstone: its contents go, the row stays.

    The row is what the audit record points at (`Deployment.project`), so a deleted
    project keeps its id (never reused: the row is never removed) while its name is
    free for a new project. A new "acme" is a new identity and sees none of the old
    one's runs. `objects` hides tombstones; `with_deleted` (and foreign keys) reach them.
    """

    name = models.CharField(max_length=32, validators=[name_validator], help_text=NAME_HELP)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(
        default=1, help_text="Bumped on every edit; stale writes are refused."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Set when deleted: the row stays for history.",
    )

    objects = LiveProjectManager()
    with_deleted = models.Manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            # Names are unique among live projects only: deleting a project frees its name.
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(deleted_at__isnull=True),
                name="unique_live_project_name",
                violation_error_message="a project with this name already exists",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


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
    drift_check_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Refresh (drift check) every N hours; empty means off."
    )
    # Security: protection, the boundary every created role carries, and static
    # keys only for teams that insist (sealed with STRANDS_SECRETS_KEY, never shown again).
    protected = models.BooleanField(
        default=False, help_text="Deploys need an owner's approval; destroy is disabled."
    )
    permissions_boundary = models.CharField(max_length=2048, blank=True)
    access_key_id_sealed = models.TextField(blank=True)
    secret_access_key_sealed = models.TextField(blank=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="unique_stage_name")
        ]

    def __str__(self) -> str:
        return f"{self.project.name}/{self.name}"


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
    architecture = models.CharField(
        max_length=8, choices=Architecture.choices, default=Architecture.X86_64
    )
    memory_mb = models.PositiveIntegerField(
        default=bounds.AGENT["memory_mb"].default, validators=_validators(bounds.AGENT["memory_mb"])
    )
    timeout_s = models.PositiveIntegerField(
        default=bounds.AGENT["timeout_s"].default, validators=_validators(bounds.AGENT["timeout_s"])
    )
    environment = models.JSONField(default=dict, blank=True)
    secret_environment = models.JSONField(
        default=dict, blank=True, help_text="NAME -> sealed value (dashboard.secrets.seal)."
    )
    reserved_concurrency = models.PositiveIntegerField(null=True, blank=True)
    tracing = models.BooleanField(default=False)
    # The model, tool settings, conversation sessions, custom code and dependencies
    # (provisioning/graph/agent_needs.py and tools_catalogue.py say what each needs).
    model_provider = models.CharField(max_length=16, default="bedrock")
    model_region = models.CharField(
        max_length=32, blank=True, help_text="Empty: the stage's region."
    )
    max_tokens = models.PositiveIntegerField(null=True, blank=True)
    temperature = models.FloatField(null=True, blank=True)
    tool_settings = models.JSONField(default=dict, blank=True)
    session_bucket = models.CharField(max_length=32, blank=True)
    code = models.JSONField(
        default=dict, blank=True, help_text='{"kind": "zip" | "directory", "path", "handler"}'
    )
    requirements = models.JSONField(default=list, blank=True)
    layers = models.JSONField(default=list, blank=True)
    # Beyond its links: more models, extra IAM statements, and where failed events go.
    extra_models = models.JSONField(default=list, blank=True)
    extra_statements = models.JSONField(
        default=list, blank=True, help_text='[{"actions": [...], "resources": [...]}]'
    )
    allow_broad_permissions = models.BooleanField(default=False)
    on_failure = models.CharField(
        max_length=64, blank=True, help_text='A queue or topic node key, e.g. "queue:failed".'
    )
    settings = models.JSONField(
        default=dict,
        blank=True,
        help_text="Schema settings without a column of their own (egress rules, alarms, ...).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="unique_agent_name")
        ]

    @property
    def key(self) -> str:
        return f"agent:{self.name}"

    @classmethod
    def has_column(cls, name: str) -> bool:
        return any(f.name == name for f in cls._meta.concrete_fields)

    def schema_value(self, name: str) -> Any:
        """One of the schema's agent settings: its column, else its entry in `settings`.

        A setting added to the schema needs no migration: it lives in `settings` until it
        earns a column (the schema's default when never set).
        """
        if self.has_column(name):
            return getattr(self, name)
        if name in (self.settings or {}):
            return self.settings[name]
        return schema.AgentSettings.model_fields[name].get_default(call_default_factory=True)

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
        constraints = [
            models.UniqueConstraint(
                fields=["project", "kind", "name"], name="unique_component_name"
            )
        ]

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
    settings = models.JSONField(
        default=dict,
        blank=True,
        help_text="The link's own settings (schema.LINKS): variable name, route, delivery.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "source", "target"], name="unique_link")
        ]
