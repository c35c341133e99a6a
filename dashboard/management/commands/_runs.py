"""What plan / deploy / destroy share: find the stage, start the run, follow its events.

Embedded (no REDIS_URL) the command runs the work in its own process; with REDIS_URL
it queues it for the `rundramatiq` workers and follows the events from the database.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

from dashboard import errors
from dashboard.projects.models import Project, Stage
from dashboard.runs import execution, queue
from dashboard.runs import selectors as run_selectors
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment

Write = Callable[[str], None]
POLL_S = 0.3
TERMINAL = {"succeeded", "failed", "skipped"}


def find_stage(project_name: str, stage_name: str) -> Stage:
    stage = (
        Stage.objects.select_related("project")
        .filter(project__name=project_name, name=stage_name)
        .first()
    )
    if stage is not None:
        return stage
    if not Project.objects.filter(name=project_name).exists():
        raise CommandError(f"no project named {project_name!r}")
    raise CommandError(f"{project_name} has no stage {stage_name!r}")


def start(stage: Stage, kind: str, snapshot: dict[str, Any] | None = None) -> Deployment:
    try:
        return run_services.deployment_start(
            stage=stage, kind=kind, user=None, enqueue=not settings.EMBEDDED, snapshot=snapshot
        )
    except (errors.ServiceError, queue.QueueUnavailable) as exc:
        raise CommandError(exc.message) from None


def _run_here(deployment_id: int) -> threading.Thread:
    def work() -> None:
        try:
            execution.run_deployment(deployment_id)
        finally:
            connection.close()

    thread = threading.Thread(target=work, name=f"deployment-{deployment_id}", daemon=True)
    thread.start()
    return thread


class Progress:
    """Turns event JSON into lines like "[ 3/7] agent/support/function  CREATE  succeeded  812 ms"."""

    def __init__(self, write: Write) -> None:
        self.write = write
        self.done = 0
        self.total: int | None = None

    def show(self, event: dict[str, Any]) -> None:
        if event["resource"] is None:
            self.total = _total_from(event["message"]) or self.total
            self.write(f"        {event['message']}")
            return
        if event["status"] not in TERMINAL:
            return
        self.done += 1
        total = str(self.total) if self.total else "?"
        line = f"[{self.done:>{len(total)}}/{total}] {event['resource']}  {event['action']}  {event['status']}"
        if event["elapsed_ms"] is not None:
            line += f"  {event['elapsed_ms']} ms"
        if event["status"] != "succeeded" and event["message"]:
            line += f"  {event['message']}"
        self.write(line)


def _total_from(message: str) -> int | None:
    if match := re.match(r"destroying (\d+) resources", message):
        return int(match.group(1))
    if message.startswith("plan: "):
        counts = re.findall(r"(\d+) ([a-z ]+)", message.removeprefix("plan: "))
        return sum(int(n) for n, what in counts if what.strip() != "no change") or None
    return None


def follow(deployment: Deployment, write: Write | None) -> Deployment:
    """Print events until the run ends (Ctrl-C asks it to cancel); returns the ended row."""
    progress = Progress(write) if write else None
    seq = 0
    cancelling = False
    while True:
        try:
            deployment.refresh_from_db()
            ended = not deployment.is_active
            for event in run_selectors.deployment_events(deployment=deployment, after=seq):
                seq = event["seq"]
                if progress:
                    progress.show(event)
            if ended:
                return deployment
            time.sleep(POLL_S)
        except KeyboardInterrupt:
            if cancelling:
                raise CommandError(
                    f"stopped following #{deployment.pk}; it winds down by itself"
                ) from None
            cancelling = True
            if write:
                write(f"cancelling #{deployment.pk} (Ctrl-C again to stop following)")
            with contextlib.suppress(errors.ServiceError):
                run_services.deployment_cancel(deployment=deployment, user=None)


def run(
    stage: Stage,
    kind: str,
    *,
    wait: bool,
    write: Write | None,
    snapshot: dict[str, Any] | None = None,
) -> Deployment:
    """Start a run and, when waiting (always when embedded), follow it to its end.
    `snapshot`: the blueprint to run instead of the project's (a project file's)."""
    deployment = start(stage, kind, snapshot)
    if settings.EMBEDDED:
        _run_here(deployment.pk)
    elif not wait:
        return deployment
    return follow(deployment, write)


def check_outcome(deployment: Deployment) -> None:
    if deployment.status != Deployment.Status.SUCCEEDED:
        detail = f": {deployment.error}" if deployment.error else ""
        raise CommandError(
            f"{deployment.kind} #{deployment.pk} {deployment.status.lower()}{detail}"
        )
