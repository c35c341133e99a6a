"""`manage.py export PROJECT`: the project file (strands-deploy.yaml) of a live project;
`--format json|csv`: the project's whole history of runs, for an auditor."""

from __future__ import annotations

import csv
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.history import selectors as history_selectors
from dashboard.projects import project_file
from dashboard.projects.models import Project


class _Operator:
    """The CLI user: a local operator who sees every run (services' `user=None`)."""

    is_staff = True
    is_authenticated = True


class _Raw:
    """The command's stdout without the newline Django adds to every write."""

    def __init__(self, wrapper: Any) -> None:
        self._wrapper = wrapper

    def write(self, text: str) -> None:
        self._wrapper.write(text, ending="")


class Command(BaseCommand):
    help = (
        "Export a project as its project file (YAML, the default; apply it with `manage.py "
        "apply -f`), or its runs (kept even after the project is deleted) as JSON or CSV. "
        "PROJECT is the live project of that name, else the one deleted project of that name; "
        "--id picks one project when several had the name."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project")
        parser.add_argument("--id", type=int, help="the project's id (see the error listing them)")
        parser.add_argument(
            "--format",
            choices=("yaml", "json", "csv"),
            default="yaml",
            help="yaml: the project file; json or csv: the runs",
        )
        parser.add_argument("--events", action="store_true", help="JSON: include every event")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["format"] == "yaml":
            self._project_file(options["project"], options["output"])
            return
        project = self._project(options["project"], options["id"])
        rows = history_selectors.export_rows(
            user=_Operator(),  # type: ignore[arg-type]
            project=project,
        )
        if options["output"]:
            with open(options["output"], "w", newline="") as out:
                self._write(rows, out, options)
        else:
            self._write(rows, _Raw(self.stdout), options)

    def _project_file(self, name: str, output: str | None) -> None:
        project = Project.objects.filter(name=name).first()
        if project is None:
            raise CommandError(f"no live project named {name!r} (--format json exports runs)")
        text = project_file.export_text(project)
        if output:
            with open(output, "w") as out:
                out.write(text)
        else:
            self.stdout.write(text, ending="")

    def _project(self, name: str, project_id: int | None) -> Project:
        """One identity: runs of another project that had the same name are never mixed in."""
        candidates = history_selectors.projects_named(name)
        if project_id is not None:
            chosen = [p for p in candidates if p.pk == project_id]
            if not chosen:
                raise CommandError(f"no project #{project_id} named {name!r}")
            return chosen[0]
        if not candidates:
            raise CommandError(f"no project named {name!r}, live or deleted")
        deleted = [p for p in candidates if p.is_deleted]
        if not candidates[0].is_deleted:
            if deleted:
                self.stderr.write(f"exporting the live {name!r}; older ones: {_listing(deleted)}")
            return candidates[0]
        if len(deleted) > 1:
            raise CommandError(
                f"{len(deleted)} deleted projects were named {name!r}: choose one with "
                f"{_listing(deleted)}"
            )
        return deleted[0]

    def _write(self, rows: Any, out: Any, options: dict[str, Any]) -> None:
        if options["format"] == "csv":
            self._csv(rows, out)
        else:
            self._json(list(rows), out, with_events=options["events"])

    def _csv(self, rows: Any, out: Any) -> None:
        writer = csv.DictWriter(out, fieldnames=history_selectors.EXPORT_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "plan_summary": json.dumps(row["plan_summary"] or {})})

    def _json(self, rows: list[dict[str, Any]], out: Any, *, with_events: bool) -> None:
        if with_events:
            events: dict[int, list[dict[str, Any]]] = {}
            for event in history_selectors.export_events([r["id"] for r in rows]):
                events.setdefault(int(str(event["deployment"])), []).append(event)
            rows = [{**row, "events": events.get(row["id"], [])} for row in rows]
        json.dump(rows, out, indent=2, default=str)
        out.write("\n")


def _listing(projects: list[Project]) -> str:
    return ", ".join(
        f"--id {p.pk} (deleted {p.deleted_at:%Y-%m-%d %H:%M} UTC)" for p in projects if p.deleted_at
    )
