"""What a person sees while a run goes on: a live table per resource with an overall bar on a
terminal, one plain line per event anywhere else (CI logs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

FINISHED = frozenset({"succeeded", "failed", "skipped"})
STYLES = {
    "pending": "dim",
    "in_progress": "yellow",
    "succeeded": "green",
    "failed": "bold red",
    "skipped": "dim",
}


class Display(Protocol):
    def start(self, run: dict[str, Any]) -> None: ...
    def event(self, event: dict[str, Any]) -> None: ...
    def stop(self) -> None: ...


@dataclass
class Board:
    """The latest state and message of each resource, in the order they first appeared."""

    states: dict[str, tuple[str, str]] = field(default_factory=dict)

    def see(self, event: dict[str, Any]) -> None:
        resource = event.get("resource")
        if resource:
            self.states[str(resource)] = (
                str(event.get("status", "")),
                str(event.get("message") or ""),
            )

    @property
    def finished(self) -> int:
        return sum(1 for status, _ in self.states.values() if status in FINISHED)


class PlainDisplay:
    def __init__(self, console: Console) -> None:
        self._console = console

    def start(self, run: dict[str, Any]) -> None:
        self._console.print(
            f"{run.get('kind', 'run')} #{run['id']}: {run.get('status', 'QUEUED')}", highlight=False
        )

    def event(self, event: dict[str, Any]) -> None:
        at = str(event.get("at") or "")
        clock = at[11:19] if len(at) >= 19 else at
        who = event.get("resource") or "run"
        message = event.get("message") or ""
        line = f"{clock} {who} {event.get('status', '')}".strip()
        self._console.print(
            f"{line}: {message}" if message else line, highlight=False, markup=False
        )

    def stop(self) -> None:
        return None


class LiveDisplay:
    def __init__(self, console: Console) -> None:
        self._console = console
        self._board = Board()
        self._note = ""
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self._task = self._bar.add_task("starting", total=None)
        self._live = Live(console=console, refresh_per_second=8, transient=False)

    def start(self, run: dict[str, Any]) -> None:
        self._title = f"{run.get('kind', 'run')} #{run['id']}"
        self._bar.update(self._task, description=self._title)
        self._live.start()
        self._refresh()

    def event(self, event: dict[str, Any]) -> None:
        if event.get("resource"):
            self._board.see(event)
        elif event.get("message"):
            self._note = str(event["message"])
        self._refresh()

    def stop(self) -> None:
        self._refresh()
        self._live.stop()

    def _refresh(self) -> None:
        total = len(self._board.states) or None
        self._bar.update(self._task, total=total, completed=self._board.finished)
        table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
        for resource, (status, message) in self._board.states.items():
            style = STYLES.get(status, "")
            table.add_row(resource, Text(status, style=style), message)
        parts: list[Any] = [table, self._bar]
        if self._note:
            parts.append(self._note)
        self._live.update(Group(*parts))


def display_for(console: Console) -> Display:
    return LiveDisplay(console) if console.is_terminal else PlainDisplay(console)
