"""`manage.py apply -f strands-deploy.yaml [--prune] [--yes]`: make a project what its file says.

Shows what changes first (nodes and links added, changed, removed, with each field's old and
new value); applies only with --yes or after a typed "yes". Exit codes: 0 applied or nothing
to change, 1 the file has problems or a change was refused (nothing is written), 2 not
confirmed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.errors import ServiceError
from dashboard.projects import project_file
from provisioning.model import project_file as pf


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-f", "--file", required=True, help="the project file ('-': stdin)")
        parser.add_argument(
            "--prune", action="store_true", help="remove nodes and links the file does not list"
        )
        parser.add_argument("--yes", action="store_true", help="apply without asking")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = load(options["file"])
        preview = project_file.preview(wanted, prune=options["prune"])
        for line in describe(preview):
            self.stdout.write(line)
        if preview.unchanged:
            return
        if not options["yes"]:
            if not sys.stdin.isatty():
                raise CommandError("not applied: pass --yes to apply without a terminal", 2)
            if input("Apply these changes? Type yes: ").strip() != "yes":
                raise CommandError("not applied", 2)
        try:
            project_file.apply(project_file=wanted, user=None, prune=options["prune"])
        except ServiceError as exc:
            raise CommandError(f"nothing applied: {exc.message}") from None
        self.stdout.write(f"applied to {preview.project}")


def load(path: str) -> pf.ProjectFile:
    """The file's project, or a CommandError listing every problem as FILE:LINE:COLUMN."""
    try:
        text = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return pf.parse(text)
    except pf.ProjectFileError as exc:
        shown = "<stdin>" if path == "-" else path
        raise CommandError("\n".join(f"{shown}:{problem}" for problem in exc.problems)) from None


def describe(preview: project_file.Preview) -> list[str]:
    if preview.unchanged:
        lines = [f"{preview.project}: no changes"]
    else:
        verb = "update" if preview.exists else "create"
        lines = [f"{verb} {preview.project}: {len(preview.changes)} change(s)"]
    signs = {"add": "+", "change": "~", "remove": "-"}
    for change in preview.changes:
        lines.append(f"  {signs[change.action]} {change.key}")
        if change.action == "change":
            for path, old, new in change.fields:
                lines.append(f"      {path}: {old!r} -> {new!r}")
    lines += [f"  = {key} (kept: not in the file; --prune removes it)" for key in preview.kept]
    lines += [f"  note: {note}" for note in preview.notes]
    return lines
