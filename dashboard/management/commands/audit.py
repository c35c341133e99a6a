"""`manage.py audit verify` checks the audit log's hash chain; `manage.py audit list` shows it."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.audit import selectors as audit_selectors
from dashboard.history.selectors import projects_named
from dashboard.projects.models import Project


class Command(BaseCommand):
    help = "Check that the audit log is intact (verify), or list its entries (list)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        verify = commands.add_parser("verify", help="walk the hash chain; exit 1 if broken")
        verify.add_argument("--project", help="report on this project's entries only")
        listing = commands.add_parser("list", help="entries, newest first")
        listing.add_argument("--project")
        listing.add_argument("--since", help="YYYY-MM-DD")
        listing.add_argument("--until", help="YYYY-MM-DD")
        listing.add_argument("--actor")
        listing.add_argument("--action", help="node, or node.create")
        listing.add_argument("--limit", type=int, default=50)
        listing.add_argument("--json", action="store_true", help="one JSON array")

    def handle(self, *args: Any, **options: Any) -> None:
        project = _project(options.get("project"))
        if options["command"] == "verify":
            self._verify(project, options.get("project"))
        else:
            self._list(project, options)

    def _verify(self, project: Project | None, name: str | None) -> None:
        report = audit_selectors.chain_verify(project=project)
        whose = f" of {name}" if name else ""
        if report.broken is not None:
            raise CommandError(
                f"the audit log is broken at {report.broken} "
                f"({report.checked} entries{whose} before it are intact)",
                returncode=1,
            )
        self.stdout.write(f"{report.checked} entries{whose}, chain intact")

    def _list(self, project: Project | None, options: dict[str, Any]) -> None:
        filters = audit_selectors.clean_filters(options)
        rows = audit_selectors.entries(project=project, filters=filters)[: options["limit"]]
        if options["json"]:
            self.stdout.write(json.dumps([r.as_row() for r in rows], indent=2))
            return
        if not rows:
            self.stdout.write("no entries")
        for entry in rows:
            self.stdout.write(
                f"#{entry.pk:<6} {entry.at:%Y-%m-%d %H:%M:%S}  {entry.source:<6} "
                f"{entry.actor_name:<24} {entry.project_name or '-':<16} {entry.action:<18} "
                f"{entry.target}  {json.dumps(entry.changes)}"
            )


def _project(name: str | None) -> Project | None:
    if not name:
        return None
    found = projects_named(name)
    if not found:
        raise CommandError(f"no project named {name!r}, now or before")
    return found[0]
