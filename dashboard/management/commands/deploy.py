from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from dashboard.management.commands import _runs


class Command(BaseCommand):
    help = "Deploy a project's stage; exits non-zero unless it succeeds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project")
        parser.add_argument("--stage", default="dev")
        parser.add_argument("--wait", action="store_true", help="follow it to the end")

    def handle(self, *args: Any, **options: Any) -> None:
        stage = _runs.find_stage(options["project"], options["stage"])
        deployment = _runs.run(stage, "deploy", wait=options["wait"], write=self.stdout.write)
        if not deployment.is_active:
            _runs.check_outcome(deployment)
            self.stdout.write(self.style.SUCCESS(f"deploy #{deployment.pk} succeeded"))
        elif not settings.EMBEDDED:
            self.stdout.write(
                f"deploy #{deployment.pk} queued; follow with: status {stage.project.name}"
            )
