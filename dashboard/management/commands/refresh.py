"""`manage.py refresh PROJECT [--stage dev]`: check a stage for drift (exit 1 if drifted).

`--due` refreshes every stage whose periodic drift check is due, now. The periodic checks
themselves need no cron: the scheduler starts them (`manage.py scheduler`, README, Operating).
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.history import drift as drift_services
from dashboard.management.commands import _runs
from dashboard.runs import queue

SCHEDULE_GONE = (
    "--schedule is gone: the scheduler starts due drift checks by itself. With services run "
    "`manage.py scheduler` (the compose `scheduler` service); `make run` runs it for you"
)


class Command(BaseCommand):
    help = "Compare AWS with a stage's recorded state and record the drift."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", nargs="?")
        parser.add_argument("--stage", default="dev")
        parser.add_argument("--due", action="store_true", help="every stage whose check is due")
        parser.add_argument("--schedule", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            raise CommandError(SCHEDULE_GONE)
        if options["due"]:
            try:
                started = drift_services.drift_check_due()
            except queue.QueueUnavailable as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(f"{len(started)} refreshes started")
            return
        if not options["project"]:
            raise CommandError("name a project, or use --due")
        stage = _runs.find_stage(options["project"], options["stage"])
        deployment = _runs.run(stage, "refresh", wait=True, write=self.stdout.write)
        _runs.check_outcome(deployment)
        drifted = drift_services.stage_drift(stage=stage)
        for resource in drifted:
            for item in resource.drift:
                self.stdout.write(
                    f"drifted {resource.logical_id} {item['name']}: "
                    f"{item['recorded']!r} -> {item['live']!r}"
                )
        if drifted:
            raise CommandError(f"{len(drifted)} resources drifted (refresh #{deployment.pk})")
        self.stdout.write(self.style.SUCCESS(f"refresh #{deployment.pk}: no drift"))
