from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.projects import demo


class Command(BaseCommand):
    help = "Create sample users and projects (does nothing for what already exists)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("fixture", nargs="?", default="demo", choices=sorted(demo.FIXTURES))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            lines = demo.load(options["fixture"])
        except KeyError as exc:
            raise CommandError(f"no fixture named {exc}") from None
        for line in lines:
            self.stdout.write(line)
