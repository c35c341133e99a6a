from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.projects.models import Project
from dashboard.runs import selectors as run_selectors


class Command(BaseCommand):
    help = "List a project's runs, newest first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project")
        parser.add_argument("--limit", type=int, default=20)

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"no project named {options['project']!r}")
        runs = run_selectors.deployment_list(project=project, limit=options["limit"])
        if not runs:
            self.stdout.write("no runs yet")
        for run in runs:
            took = f"{run.duration_s:.1f}s" if run.duration_s is not None else "-"
            self.stdout.write(
                f"#{run.pk:<5} {run.created_at:%Y-%m-%d %H:%M:%S}  {run.stage_name:<8} {run.kind:<8} "
                f"{run.status:<10} {took:>8}  {run.triggered_by_name}"
            )
