from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dashboard.management.commands import _runs
from dashboard.projects import selectors as project_selectors
from dashboard.runs import lifecycle
from dashboard.runs.models import Deployment


class Command(BaseCommand):
    help = "Show a stage: where it deploys, its latest run and the resources it has."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project")
        parser.add_argument("--stage", default="dev")

    def handle(self, *args: Any, **options: Any) -> None:
        stage = _runs.find_stage(options["project"], options["stage"])
        lifecycle.fail_stale_runs(stage=stage)
        self.stdout.write(f"{stage}  target={stage.target}  region={stage.region}")
        latest = Deployment.objects.filter(stage=stage).exclude(kind="plan").first()
        if latest is None:
            self.stdout.write("never deployed")
        else:
            self.stdout.write(
                f"latest: {latest.kind} #{latest.pk} {latest.status} by {latest.triggered_by_name} "
                f"at {latest.created_at:%Y-%m-%d %H:%M:%S}"
                + (f"  error: {latest.error}" if latest.error else "")
            )
        resources = list(project_selectors.stage_resources(stage=stage))
        self.stdout.write(f"{len(resources)} resources")
        for resource in resources:
            self.stdout.write(f"  {resource.logical_id}  {resource.type}  {resource.physical_id}")
