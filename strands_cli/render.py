"""How answers of the API are shown: tables on stdout, problems as `FILE:LINE:COL:` lines."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

ACTION_MARKS = {"add": ("+", "green"), "change": ("~", "yellow"), "remove": ("-", "red")}
NO_CHANGE = "NO_CHANGE"


def short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def preview_table(preview: dict[str, Any]) -> Table:
    """One row per changed field (or per added/removed entry without fields)."""
    table = Table(title=f"project {preview.get('project', '?')}", title_justify="left")
    for column in ("", "entry", "field", "now", "file"):
        table.add_column(column)
    for change in preview.get("changes", []):
        mark, style = ACTION_MARKS.get(change.get("action", ""), ("?", ""))
        fields = [_field_row(f) for f in change.get("fields") or []] or [("", "", "")]
        for index, (path, old, new) in enumerate(fields):
            first = index == 0
            table.add_row(
                Text(mark if first else "", style=style),
                Text(str(change.get("key", "")) if first else "", style=style),
                path,
                old,
                new,
            )
    return table


def _field_row(field: Any) -> tuple[str, str, str]:
    """A changed field as `[path, old, new]` or `{"path", "old", "new"}`."""
    if isinstance(field, dict):
        return str(field.get("path", "")), short(field.get("old")), short(field.get("new"))
    if isinstance(field, list | tuple) and len(field) == 3:
        return str(field[0]), short(field[1]), short(field[2])
    return short(field), "", ""


def print_preview(console: Console, preview: dict[str, Any], *, path: str) -> None:
    project = preview.get("project", "?")
    if preview.get("unchanged"):
        console.print(f"{path}: project {project} already matches the file", highlight=False)
    else:
        if not preview.get("exists", True):
            console.print(
                f"{path}: project {project} does not exist yet: it will be created", highlight=False
            )
        console.print(preview_table(preview))
    kept = preview.get("kept") or []
    if kept:
        console.print(
            f"kept (in the project, not in the file; --prune removes them): {', '.join(map(str, kept))}",
            highlight=False,
        )
    for note in preview.get("notes") or []:
        console.print(f"note: {note}", highlight=False, markup=False)


def problem_lines(path: str, problems: list[dict[str, Any]]) -> list[str]:
    lines = []
    for problem in problems:
        where = f"{path}:{problem.get('line') or 0}:{problem.get('column') or 0}"
        field = problem.get("path")
        prefix = f"{where}: {field}" if field else where
        lines.append(f"{prefix}: {problem.get('message', '')}")
    return lines


def change_count(preview: dict[str, Any]) -> str:
    counts = {action: 0 for action in ACTION_MARKS}
    for change in preview.get("changes", []):
        counts[change.get("action", "")] = counts.get(change.get("action", ""), 0) + 1
    return f"{counts['add']} added, {counts['change']} changed, {counts['remove']} removed"


# --- runs ------------------------------------------------------------------------------------
def plan_has_changes(plan: dict[str, Any]) -> bool:
    summary = plan.get("summary") or {}
    return any(count for action, count in summary.items() if action != NO_CHANGE)


def plan_line(plan: dict[str, Any]) -> str:
    summary = plan.get("summary") or {}
    parts = [
        f"{count} {action.lower().replace('_', ' ')}"
        for action, count in sorted(summary.items())
        if count and action != NO_CHANGE
    ]
    return "plan: " + (", ".join(parts) if parts else "no changes")


def findings(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's problems (each blocking) and its advice, blocking first."""
    problems = [{**p, "severity": "blocking", "fix": ""} for p in plan.get("problems") or []]
    return sorted(
        problems + list(plan.get("advice") or []), key=lambda f: f.get("severity") != "blocking"
    )


def blocking(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in findings(plan) if f.get("severity") == "blocking"]


def print_plan(console: Console, plan: dict[str, Any]) -> None:
    for change in plan.get("changes") or []:
        if change.get("action") == NO_CHANGE:
            continue
        reason = f"  ({change['reason']})" if change.get("reason") else ""
        console.print(f"  {change.get('action', ''):<9} {change.get('logical_id', '')}{reason}")
        for prop in change.get("changes") or []:
            replace = "  forces replacement" if prop.get("replacement_reason") else ""
            old, new = short(prop.get("old")), short(prop.get("new"))
            console.print(f"      {prop.get('name', '')}: {old} -> {new}{replace}")
    for found in findings(plan):
        severity = found.get("severity", "warning")
        style = "bold red" if severity == "blocking" else "yellow"
        where = f"{found.get('node', '')} {found.get('field', '')}".strip()
        console.print(Text(f"  {severity}: {where}: {found.get('message', '')}", style=style))
        if found.get("fix"):
            console.print(Text(f"      fix: {found['fix']}"))
    console.print(plan_line(plan), highlight=False)


def run_line(run: dict[str, Any]) -> str:
    counts = run.get("counts") or {}
    parts = [f"{n} {name.replace('_', ' ')}" for name, n in counts.items() if n and name != "total"]
    detail = f" ({', '.join(parts)})" if parts else ""
    return f"{run.get('kind', 'run')} #{run.get('id')}: {run.get('status')}{detail}"


def endpoints_table(endpoints: list[dict[str, Any]]) -> Table:
    """Each route: its node, method, URL and how to authenticate (the status answer's
    `example` holds a ready curl line for that mode)."""
    table = Table(title="endpoints", title_justify="left")
    for column in ("node", "method", "url", "auth"):
        table.add_column(column)
    for endpoint in endpoints:
        table.add_row(*(str(endpoint.get(c) or "") for c in ("node", "method", "url", "auth")))
    return table


def print_status(console: Console, status: dict[str, Any]) -> None:
    last = status.get("last_run")
    console.print(f"stage: {status.get('stage')}", highlight=False)
    console.print(f"last run: {run_line(last) if last else 'none yet'}", highlight=False)
    console.print(f"resources: {status.get('resources', 0)}", highlight=False)
    endpoints = status.get("endpoints") or []
    if endpoints:
        console.print(endpoints_table(endpoints))
    else:
        console.print("endpoints: none", highlight=False)


def history_table(runs: list[dict[str, Any]]) -> Table:
    table = Table()
    for column in ("id", "kind", "status", "created", "by"):
        table.add_column(column)
    for run in runs:
        table.add_row(
            str(run.get("id", "")),
            str(run.get("kind", "")),
            str(run.get("status", "")),
            str(run.get("created_at", "")),
            str(run.get("triggered_by_name") or run.get("triggered_by") or ""),
        )
    return table
