"""`manage.py cancel PROJECT [--stage dev] [--wait]`: stop a stage's queued or running run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard import errors
from dashboard.management.commands import _runs
from dashboard.runs import lifecycle
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment


class Command(BaseCommand):
    help = (
        "Cancel the stage's active deploy or destroy: a queued one at once; a running one "
        "finishes the AWS calls in flight, records them, and skips the rest (CANCELLED)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project")
        parser.add_argument("--stage", default="dev")
        parser.add_argument("--wait", action="store_true", help="follow it until it has stopped")

    def handle(self, *args: Any, **options: Any) -> None:
        stage = _runs.find_stage(options["project"], options["stage"])
        lifecycle.fail_stale_runs(stage=stage)
        active = (
            Deployment.objects.filter(stage=stage, status__in=Deployment.ACTIVE)
            .order_by("-created_at", "-id")
            .first()
        )
        if active is None:
            raise CommandError(f"nothing is running on {stage}")
        try:
            deployment = run_services.deployment_cancel(deployment=active, user=None)
        except errors.ServiceError as exc:
            raise CommandError(exc.message) from None
        if not deployment.is_active:
            self.stdout.write(f"{deployment.kind} #{deployment.pk} {deployment.status.lower()}")
            return
        self.stdout.write(
            f"cancel requested for {deployment.kind} #{deployment.pk}: "
            "calls in flight finish and are recorded, nothing new starts"
        )
        if options["wait"]:
            ended = _runs.follow(deployment, self.stdout.write)
            self.stdout.write(f"{ended.kind} #{ended.pk} {ended.status.lower()}")
