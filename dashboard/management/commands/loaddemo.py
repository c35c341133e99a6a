from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.projects import demo


class Command(BaseCommand):
    help = "Create sample users and projects (does nothing for what already exists)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("fixture", nargs="?", default="demo", choices=sorted(demo.FIXTURES))
        parser.add_argument(
            "--i-know",
            action="store_true",
            help="load it even with DEBUG off (the demo user's password is published)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # DEBUG off is how a production stack runs: a user whose password is in the source
        # must not appear there because a start-up script called this.
        if not settings.DEBUG and not options["i_know"]:
            raise CommandError(
                "DEBUG is off, so this may be a production stack, and the demo user's "
                "password is published: create real users with `manage.py createsuperuser`, "
                "or pass --i-know to load the demo anyway"
            )
        try:
            lines = demo.load(options["fixture"])
        except KeyError as exc:
            raise CommandError(f"no fixture named {exc}") from None
        for line in lines:
            self.stdout.write(line)
