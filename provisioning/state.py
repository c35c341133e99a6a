"""What the engine remembers about deployed resources, and where it keeps it.

The engine never talks to a database: it is handed a `StateStore`. The
dashboard backs one with `DeployedResource` rows; tests use `MemoryStateStore`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class RecordedResource:
    logical_id: str
    resource_type: str
    physical_id: str
    arn: str = ""
    outputs: Mapping[str, Any] = field(default_factory=dict)
    """Everything `provision` returned; `Ref`s resolve against these."""
    properties_hash: str = ""
    properties: Mapping[str, Any] = field(default_factory=dict)
    """The resolved properties last applied (secrets already redacted by the caller's graph)."""
    node: str | None = None
    depends_on: tuple[str, ...] = ()
    """Logical ids this resource depended on when made: destroy runs in reverse of these."""


class StateStore(Protocol):
    def load(self) -> dict[str, RecordedResource]: ...

    def save(self, record: RecordedResource) -> None:
        """Record a resource as made; also clears its intent, in the same write."""

    def delete(self, logical_id: str) -> None: ...

    def save_intent(self, record: RecordedResource) -> None:
        """Before a create: "this may exist in AWS soon" (physical_id unknown yet), so a
        crash between AWS making it and `save` is found again by name, never made twice."""

    def intents(self) -> dict[str, RecordedResource]:
        """Creates started and never confirmed by `save` (a run died in between)."""

    def clear_intent(self, logical_id: str) -> None: ...


class MemoryStateStore:
    """A thread-safe in-memory store, for tests and the `plan` preview."""

    def __init__(self, records: Mapping[str, RecordedResource] | None = None) -> None:
        self._records: dict[str, RecordedResource] = dict(records or {})
        self._intents: dict[str, RecordedResource] = {}
        self._lock = threading.Lock()

    def load(self) -> dict[str, RecordedResource]:
        with self._lock:
            return dict(self._records)

    def save(self, record: RecordedResource) -> None:
        with self._lock:
            self._records[record.logical_id] = record
            self._intents.pop(record.logical_id, None)

    def delete(self, logical_id: str) -> None:
        with self._lock:
            self._records.pop(logical_id, None)

    def save_intent(self, record: RecordedResource) -> None:
        with self._lock:
            self._intents[record.logical_id] = record

    def intents(self) -> dict[str, RecordedResource]:
        with self._lock:
            return dict(self._intents)

    def clear_intent(self, logical_id: str) -> None:
        with self._lock:
            self._intents.pop(logical_id, None)
