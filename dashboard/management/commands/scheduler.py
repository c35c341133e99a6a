"""`manage.py scheduler [--tick 15] [--once]`: send the due periodic jobs to the workers.

A long-running process for the services mode (the compose `scheduler` service); run as many
as you like, each job is still sent once (dashboard/scheduling/scheduler.py). Embedded, the
web process runs its own scheduler thread and nothing else would take the jobs.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.scheduling.scheduler import Scheduler, tick_s


class Command(BaseCommand):
    help = "Send the periodic jobs (drift checks, the run sweep) to the workers when due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tick", type=float, default=None, help="seconds between looks (SCHEDULER_TICK_S)"
        )
        parser.add_argument("--once", action="store_true", help="look once, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.EMBEDDED:
            raise CommandError(
                "no REDIS_URL: without services the web process runs the scheduler itself "
                "(`make run`); this command sends jobs to `rundramatiq` workers through Redis"
            )
        period = options["tick"] if options["tick"] is not None else tick_s()
        if period <= 0:
            raise CommandError("--tick (or SCHEDULER_TICK_S) must be more than 0 seconds")
        scheduler = Scheduler(period)
        if options["once"]:
            sent = scheduler.tick()
            self.stdout.write(f"{len(sent)} jobs sent: {', '.join(j.key for j in sent) or '-'}")
            return

        def stop(signum: int, frame: FrameType | None) -> None:
            scheduler.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"scheduler: looking for due periodic jobs every {period} s")
        scheduler.run()
        self.stdout.write("scheduler: stopped")
