from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.errors import ServiceError
from dashboard.management.commands import _runs
from dashboard.observe import ranges, reading
from dashboard.observe.follow import Follower


class Command(BaseCommand):
    help = (
        "Print an agent's log lines in a stage (time, level, request id, message); "
        "--follow keeps printing new ones until interrupted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project")
        parser.add_argument("agent")
        parser.add_argument("--stage", default="dev")
        parser.add_argument("--since", default="10m", help="how far back: 30s, 10m, 2h, 1d")
        parser.add_argument("--filter", default="", help="only lines with this text or request id")
        parser.add_argument(
            "--level", default="", choices=["", "DEBUG", "INFO", "WARNING", "ERROR"]
        )
        parser.add_argument("--follow", action="store_true", help="print new lines as they come")
        parser.add_argument(
            "--max-seconds", type=float, default=0,
            help="with --follow: stop after this many seconds (0: until interrupted)",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        stage = _runs.find_stage(options["project"], options["stage"])
        function = reading.agent_function(stage=stage, agent=options["agent"])
        if function is None:
            raise CommandError(
                f"{options['agent']} is not deployed to {stage.project.name}/{stage.name}"
            )
        try:
            back = ranges.since(options["since"])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        start_ms = int((datetime.now(UTC) - back).timestamp() * 1000)
        follower = Follower(
            aws=reading.stage_reader(stage, who="cli"),
            function=function,
            after_ms=start_ms,
            filter_text=options["filter"],
            level=options["level"],
        )
        self._print(follower.poll())
        if follower.error:
            raise CommandError(follower.error)
        if options["follow"]:
            self._follow(follower, options["max_seconds"])

    def _follow(self, follower: Follower, max_seconds: float) -> None:
        poll_s = float(settings.LOG_FOLLOW_POLL_S)
        deadline = time.monotonic() + max_seconds if max_seconds > 0 else None
        try:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(poll_s)
                self._print(follower.poll())
                if follower.error:
                    self.stderr.write(follower.error)
        except KeyboardInterrupt:
            return

    def _print(self, lines: list[dict[str, Any]]) -> None:
        for line in lines:
            at = datetime.fromtimestamp(line["at_ms"] / 1000, UTC)
            request = (line["request_id"] or "-")[:8]
            self.stdout.write(
                f"{at:%Y-%m-%d %H:%M:%S.%f}"[:-3]
                + f"  {line['level']:<7} {request:<8}  "
                + line["message"]
            )
        self.stdout.flush()
