"""Where a project's news goes (channels), and what was sent there (deliveries and attempts)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dashboard.projects.models import Project


class Event(models.TextChoices):
    RUN_STARTED = "run.started", "Run started"
    RUN_SUCCEEDED = "run.succeeded", "Run succeeded"
    RUN_FAILED = "run.failed", "Run failed"
    APPROVAL_REQUESTED = "approval.requested", "Approval requested"
    APPROVAL_GIVEN = "approval.given", "Approval given"
    DRIFT_FOUND = "drift.found", "Drift found"
    ALARM_STATE_CHANGED = "alarm.state_changed", "Alarm state changed"
    TEST = "test", "Test"


SUBSCRIBABLE = [(value, label) for value, label in Event.choices if value != Event.TEST]
"""What a channel may subscribe to; a test is sent on request, never by subscription."""


class Channel(models.Model):
    """A webhook, a Slack incoming webhook or a list of email addresses of one project.

    Secrets are sealed (dashboard/access/secrets.py): a webhook's signing secret is shown once
    when made; a Slack URL, which is itself the credential, is never shown again (`url`
    keeps only its scheme and host, to tell channels apart)."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "Webhook (signed JSON)"
        SLACK = "slack", "Slack incoming webhook"
        EMAIL = "email", "Email"

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="notification_channels"
    )
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    url = models.CharField(
        max_length=2000, blank=True, help_text="A webhook's URL; for Slack, its host only."
    )
    url_sealed = models.TextField(blank=True, help_text="Slack: the whole URL, sealed.")
    secret_sealed = models.TextField(blank=True, help_text="Webhook: the signing secret, sealed.")
    addresses = models.JSONField(default=list, blank=True)
    events = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="unique_channel_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Delivery(models.Model):
    """One event for one channel; tried up to a bound, each try an `Attempt`."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        DELIVERED = "DELIVERED", "Delivered"
        FAILED = "FAILED", "Failed"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32, choices=Event.choices)
    payload = models.JSONField(default=dict, help_text="The event as sent (secrets redacted).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="unique_attempt_number")
        ]
