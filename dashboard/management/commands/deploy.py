from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from dashboard.management.commands import _runs


class Command(BaseCommand):
    help = (
        "Deploy a project's stage; exits non-zero unless it succeeds. With -f FILE the project "
        "file is applied first (as `apply -f FILE --yes`; --prune removes what it does not list)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project")
        parser.add_argument("--stage", default="dev")
        parser.add_argument("--wait", action="store_true", help="follow it to the end")
        parser.add_argument("-f", "--file", help="apply this project file, then deploy")
        parser.add_argument("--prune", action="store_true", help="with -f: remove what it omits")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["file"]:
            call_command(
                "apply", file=options["file"], prune=options["prune"], yes=True, stdout=self.stdout
            )
        stage = _runs.find_stage(options["project"], options["stage"])
        deployment = _runs.run(stage, "deploy", wait=options["wait"], write=self.stdout.write)
        if not deployment.is_active:
            _runs.check_outcome(deployment)
            self.stdout.write(self.style.SUCCESS(f"deploy #{deployment.pk} succeeded"))
        elif not settings.EMBEDDED:
            self.stdout.write(
                f"deploy #{deployment.pk} queued; follow with: status {stage.project.name}"
            )
