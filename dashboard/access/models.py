"""Who belongs to a project, and with which role."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dashboard.projects.models import Project


class Membership(models.Model):
    class Role(models.TextChoices):
        VIEWER = "viewer", "Viewer"
        DEPLOYER = "deployer", "Deployer"
        OWNER = "owner", "Owner"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="unique_membership")
        ]


class ApiToken(models.Model):
    """A bearer token for the REST API: personal (acts as its user, perhaps with a lower role)
    or a project's deploy token (one project, one role). Only a SHA-256 digest is kept: the
    token itself is shown once, when it is made."""

    name = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="Personal tokens: whom the token acts as.",
    )
    project = models.ForeignKey(
        Project,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deploy_tokens",
        help_text="Deploy tokens: the one project the token reaches.",
    )
    role = models.CharField(
        max_length=16,
        choices=Membership.Role.choices,
        blank=True,
        help_text="A deploy token's role; for a personal token, the highest role it may use.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="The first characters after sdp_.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, project__isnull=True)
                    | models.Q(user__isnull=True, project__isnull=False)
                ),
                name="api_token_personal_or_deploy",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (sdp_{self.prefix}…)"

    @property
    def is_deploy_token(self) -> bool:
        return self.project_id is not None
