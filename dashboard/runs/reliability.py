"""The database half of crash safety: intents (pending creates) and the run fence.

Fence: only a RUNNING deployment may write its stage's state or its own events. A
worker that paused past its heartbeat (its run was failed as interrupted, and maybe a
newer run holds the stage) or a duplicate delivery finds its row no longer RUNNING
and stops with `RunSuperseded`. The check and the write share a transaction with the
row locked (`select_for_update`), so marking the run dead waits for an in-flight write
and no write lands after it.

Crash points: `STRANDS_CRASH_AT_WRITE=K[:before|:after]` in a worker's environment kills
that process with SIGKILL right before or after the K-th AWS write call of a run, for
the reliability scenarios (tests/reliability/); `@/path` reads that from a file at the
start of each run. Unset or empty, nothing is installed.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction

from dashboard.projects.models import Stage
from dashboard.runs.models import Deployment, PendingOperation
from provisioning.errors import RunSuperseded
from provisioning.state import RecordedResource

CRASH_ENV = "STRANDS_CRASH_AT_WRITE"
READ_PREFIXES = ("Get", "List", "Describe", "Head", "Query", "Scan", "Lookup", "Search")


# --- the fence -------------------------------------------------------------------------------
def check_fence(deployment_id: int) -> None:
    """Call inside a transaction: lock the run's row, refuse if it is no longer RUNNING."""
    status = (
        Deployment.objects.select_for_update()
        .filter(pk=deployment_id)
        .values_list("status", flat=True)
        .first()
    )
    if status != Deployment.Status.RUNNING:
        raise RunSuperseded(
            f"deployment #{deployment_id} is {str(status or 'gone').lower()}, no longer running: "
            "this worker stops without writing (it was declared interrupted, or ran twice)"
        )


def fenced[T](deployment_id: int | None, write: Callable[..., T], /, *args: Any) -> T:
    if deployment_id is None:
        return write(*args)
    with transaction.atomic():
        check_fence(deployment_id)
        return write(*args)


# --- intents ---------------------------------------------------------------------------------
def intent_save(*, stage: Stage, deployment: Deployment | None, record: RecordedResource) -> None:
    PendingOperation.objects.update_or_create(
        stage=stage,
        logical_id=record.logical_id,
        defaults={
            "type": record.resource_type,
            "node": record.node or "",
            "properties": dict(record.properties),
            "depends_on": list(record.depends_on),
            "deployment": deployment,
        },
    )


def intents_load(*, stage: Stage) -> dict[str, RecordedResource]:
    return {
        row.logical_id: RecordedResource(
            logical_id=row.logical_id,
            resource_type=row.type,
            physical_id="",
            properties=dict(row.properties),
            node=row.node or None,
            depends_on=tuple(row.depends_on),
        )
        for row in PendingOperation.objects.filter(stage=stage)
    }


def intent_clear(*, stage: Stage, logical_id: str) -> None:
    PendingOperation.objects.filter(stage=stage, logical_id=logical_id).delete()


# --- crash points ----------------------------------------------------------------------------
def crash_hook() -> Callable[[str, Any], None] | None:
    """A client hook that SIGKILLs this process at the configured AWS write, or None."""
    spec = os.environ.get(CRASH_ENV, "").strip()
    if spec.startswith("@"):  # "@/path": read at each run, so one worker serves many trials
        path = Path(spec[1:])
        spec = path.read_text().strip() if path.exists() else ""
    if not spec:
        return None
    count, _, when = spec.partition(":")
    target, event = int(count), ("before-call" if when == "before" else "after-call")
    seen = [0]
    lock = threading.Lock()

    def on_call(model: Any = None, **_: Any) -> None:
        name = getattr(model, "name", "")
        if name.startswith(READ_PREFIXES) or name == "GetCallerIdentity":
            return
        with lock:
            seen[0] += 1
            if seen[0] == target:
                os.kill(os.getpid(), signal.SIGKILL)

    def hook(_service: str, client: Any) -> None:
        client.meta.events.register(event, on_call)

    return hook
