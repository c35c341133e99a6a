from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.management.commands import _runs


class Command(BaseCommand):
    help = "Delete everything a project's stage deployed; exits non-zero unless it succeeds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project")
        parser.add_argument("--stage", default="dev")
        parser.add_argument("--wait", action="store_true", help="follow it to the end")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        stage = _runs.find_stage(options["project"], options["stage"])
        if not options["yes"]:
            self._confirm(str(stage))
        deployment = _runs.run(stage, "destroy", wait=options["wait"], write=self.stdout.write)
        if not deployment.is_active:
            _runs.check_outcome(deployment)
            self.stdout.write(self.style.SUCCESS(f"destroy #{deployment.pk} succeeded"))
        elif not settings.EMBEDDED:
            self.stdout.write(
                f"destroy #{deployment.pk} queued; follow with: status {stage.project.name}"
            )

    def _confirm(self, name: str) -> None:
        if not sys.stdin.isatty():
            raise CommandError("destroy asks for confirmation: add --yes to run it unattended")
        answer = input(f"Type {name} to delete everything deployed there: ")
        if answer.strip() != name:
            raise CommandError("not confirmed: nothing was destroyed")
