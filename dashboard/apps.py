"""The dashboard app: the Django side of Strands Deploy."""

from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Strands Deploy"
    default_auto_field = "django.db.models.BigAutoField"
