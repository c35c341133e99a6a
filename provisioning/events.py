"""Progress events: what the orchestrator tells the outside world while it works.

The shape matches the websocket JSON and the `DeploymentEvent` row (see
DESIGN.md, "Progress event"); `seq` and `at` are stamped by the sink.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class EventStatus(StrEnum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    INFO = "info"
    DRIFTED = "drifted"
    """A refresh found AWS different from the recorded state."""


@dataclass(frozen=True)
class Event:
    resource: str | None
    """A logical id, or None for an event about the whole deployment."""
    resource_type: str | None
    action: str
    status: EventStatus
    message: str = ""
    elapsed_ms: int | None = None


class ProgressSink(Protocol):
    def emit(self, event: Event) -> None: ...


class ListSink:
    """Keeps events in memory (tests, CLI previews)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)
