"""The dashboard app: the Django side of Strands Deploy."""

from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Strands Deploy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dashboard import checks  # noqa: F401 - registers the deploy checks
        from dashboard.access.secrets import install_log_redaction

        install_log_redaction()
