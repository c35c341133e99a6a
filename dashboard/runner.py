"""Run one deployment to its end: the synchronous core of the actors and the embedded CLI.

A run is QUEUED only while the broker holds its message: when the broker refuses it
(Redis down), `enqueue` ends the run FAILED at once, freeing the stage, and raises
`QueueUnavailable` for the caller to report. A run proceeds only if it flips its row
QUEUED -> RUNNING itself, so a message delivered twice runs once. While it runs it
writes `heartbeat_at` every few seconds and polls `cancel_requested`; a RUNNING row
whose heartbeat is older than `DEPLOYMENT_STALE_AFTER_S` belongs to a dead worker and
is failed by the workers' periodic sweep (dashboard/sweeper.py) or by whoever looks
first, which releases the stage lock. Every state write and event of the engine is
fenced (dashboard/reliability.py): once the row is no longer RUNNING, a late worker's
writes raise `RunSuperseded` and it stops. Before each create the engine records an
intent (`PendingOperation`), cleared by the save that confirms it. The engine calls
the store and the sink from its thread pool: those calls are funnelled through one
thread with one database connection, so nothing leaks a connection per pool thread
and writes stay ordered.
"""

from __future__ import annotations

import getpass
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone
from dramatiq.errors import BrokerError
from redis.exceptions import RedisError

from dashboard import credentials, reliability, services_drift
from dashboard.models import Deployment, Stage
from dashboard.progress import DbProgressSink, send_final
from dashboard.secrets import redact
from dashboard.store import DbStateStore
from provisioning import cost, engine, sandbox
from provisioning.aws import AwsContext
from provisioning.blueprint import Blueprint
from provisioning.errors import EngineError, RunSuperseded
from provisioning.events import Event
from provisioning.state import MemoryStateStore, RecordedResource

log = logging.getLogger(__name__)
T = TypeVar("T")
Status = Deployment.Status
INTERRUPTED = "interrupted: worker stopped"
QUEUE_DOWN = "the task queue is unavailable"
BROKER_ERRORS = (BrokerError, RedisError)
"""What a broker raises when it cannot take a message (dramatiq wraps some, Redis not)."""


class QueueUnavailable(Exception):
    """The broker refused a run's message; the run has already been ended FAILED."""

    def __init__(self, message: str, deployment_id: int) -> None:
        super().__init__(message)
        self.message = message
        self.deployment_id = deployment_id


def heartbeat_s() -> float:
    return float(getattr(settings, "DEPLOYMENT_HEARTBEAT_S", 5))


def stale_after_s() -> float:
    return float(getattr(settings, "DEPLOYMENT_STALE_AFTER_S", 60))


def sandbox_down_message(endpoint_url: str) -> str:
    return (
        f"the sandbox (local AWS emulator) is not answering at {endpoint_url}: "
        "start it with `make run` or `python manage.py sandbox`"
    )


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def validate_blueprint(blueprint: Blueprint) -> list[tuple[str, str, str]]:
    return engine.validate(blueprint)


def enqueue(deployment: Deployment) -> None:
    """Hand the run to the workers, or end it: a QUEUED row that no message will ever
    claim would hold the stage until someone cancels it by hand."""
    from dashboard import actors  # actors bind to the broker django_dramatiq configures

    try:
        actors.actor_for(deployment.kind).send(deployment.pk)
    except BROKER_ERRORS as exc:
        # Should Redis have taken the message after all (a lost reply), its worker finds
        # the run no longer QUEUED and leaves it: failing here is always safe.
        reason = f"{QUEUE_DOWN}: {exc}. Nothing was started; try again when it is back"
        log.error("deployment #%s not queued: %s", deployment.pk, exc)
        finish(deployment, Outcome(Status.FAILED, error=reason), from_status=Status.QUEUED)
        raise QueueUnavailable(reason, deployment.pk) from exc


# --- ending a run --------------------------------------------------------------------------
@dataclass
class Outcome:
    status: str
    error: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)


def _final_words(deployment: Deployment, outcome: Outcome) -> str:
    what = f"{deployment.kind} of {deployment.project_name}/{deployment.stage_name}"
    if outcome.status == Status.SUCCEEDED:
        summary = outcome.plan.get("summary") if deployment.kind == Deployment.Kind.PLAN else None
        if summary is not None:
            parts = [f"{n} {a.lower().replace('_', ' ')}" for a, n in sorted(summary.items())]
            return f"{what} succeeded: " + (", ".join(parts) or "nothing to do")
        return f"{what} succeeded"
    return f"{what} {outcome.status.lower()}" + (f": {outcome.error}" if outcome.error else "")


def finish(deployment: Deployment, outcome: Outcome, *, from_status: str = Status.RUNNING) -> bool:
    """Record the end exactly once (whoever flips the status writes the final event).

    The status and the final event commit together, so a reader that sees the end
    also sees every event.
    """
    with transaction.atomic():
        done = Deployment.objects.filter(pk=deployment.pk, status=from_status).update(
            status=outcome.status,
            error=redact(outcome.error),  # any secret this worker opened stays out of history
            counts=outcome.counts,
            plan=redact(outcome.plan or deployment.plan),
            finished_at=timezone.now(),
        )
        if not done:
            return False
        # Counted only now, holding the row's lock: a fenced event committed just before is seen.
        sink = DbProgressSink(deployment)
        row = sink.record(
            status=outcome.status.lower(),
            action=deployment.kind.upper(),
            message=_final_words(deployment, outcome),
            publish=False,
        )
    deployment.refresh_from_db()
    sink.publish(row)
    send_final(deployment)
    return True


def cancel_queued(*, deployment_id: int, by: str) -> bool:
    deployment = Deployment.objects.filter(pk=deployment_id, status=Status.QUEUED).first()
    if deployment is None:
        return False
    return finish(
        deployment,
        Outcome(Status.CANCELLED, error=f"cancelled by {by} before it started"),
        from_status=Status.QUEUED,
    )


def fail_stale_runs(*, stage: Stage | None = None) -> int:
    """Fail RUNNING deployments whose worker stopped beating; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=stale_after_s())
    stale = Deployment.objects.filter(status=Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    if stage is not None:
        stale = stale.filter(stage=stage)
    failed = 0
    for deployment in stale:
        log.warning("deployment #%s: no heartbeat since %s", deployment.pk, deployment.heartbeat_at)
        failed += finish(deployment, Outcome(Status.FAILED, error=INTERRUPTED))
    return failed


# --- the engine's threads -> one database thread -------------------------------------------
class DbThread:
    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def call(self, fn: Callable[..., T], /, *args: Any) -> T:
        return self._pool.submit(fn, *args).result()

    def close(self) -> None:
        self._pool.submit(connections.close_all).result()
        self._pool.shutdown(wait=True)


class _StoreOnDbThread:
    """The stage's state, fenced by the run, with its intents (pending creates)."""

    def __init__(self, store: DbStateStore, db: DbThread) -> None:
        self._store, self._db = store, db
        self._stage = store.stage
        self._run = store.deployment.pk if store.deployment is not None else None

    def load(self) -> dict[str, RecordedResource]:
        return self._db.call(self._store.load)

    def save(self, record: RecordedResource) -> None:
        self._db.call(reliability.fenced, self._run, self._save, record)

    def _save(self, record: RecordedResource) -> None:
        self._store.save(record)
        reliability.intent_clear(stage=self._stage, logical_id=record.logical_id)

    def delete(self, logical_id: str) -> None:
        self._db.call(reliability.fenced, self._run, self._store.delete, logical_id)

    def save_intent(self, record: RecordedResource) -> None:
        self._db.call(reliability.fenced, self._run, self._save_intent, record)

    def _save_intent(self, record: RecordedResource) -> None:
        reliability.intent_save(stage=self._stage, deployment=self._store.deployment, record=record)

    def intents(self) -> dict[str, RecordedResource]:
        return self._db.call(lambda: reliability.intents_load(stage=self._stage))

    def clear_intent(self, logical_id: str) -> None:
        self._db.call(reliability.fenced, self._run, self._clear_intent, logical_id)

    def _clear_intent(self, logical_id: str) -> None:
        reliability.intent_clear(stage=self._stage, logical_id=logical_id)


class _SinkOnDbThread:
    def __init__(self, sink: DbProgressSink, db: DbThread) -> None:
        self._sink, self._db = sink, db

    def emit(self, event: Event) -> None:
        self._db.call(reliability.fenced, self._sink.deployment.pk, self._sink.emit, event)


def _beat(deployment_id: int, write_heartbeat: bool) -> tuple[bool, bool]:
    """(cancel requested, run lost): lost when the row is no longer RUNNING (the fence)."""
    if write_heartbeat:
        Deployment.objects.filter(pk=deployment_id, status=Status.RUNNING).update(
            heartbeat_at=timezone.now()
        )
    row = Deployment.objects.filter(pk=deployment_id).values("cancel_requested", "status").first()
    if row is None:
        return True, True
    return bool(row["cancel_requested"]), row["status"] != Status.RUNNING


class Watch:
    """Heartbeat writer and cancel poller, on its own thread for the length of a run."""

    def __init__(self, deployment_id: int, db: DbThread, poll_s: float = 1.0) -> None:
        self._id, self._db, self._poll_s = deployment_id, db, poll_s
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"watch-{deployment_id}", daemon=True
        )

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _run(self) -> None:
        last_beat = time.monotonic()
        while not self._stop.wait(min(self._poll_s, heartbeat_s())):
            due = time.monotonic() - last_beat >= heartbeat_s()
            try:
                cancel, lost = self._db.call(_beat, self._id, due)
                if cancel or lost:
                    self._cancel.set()  # lost: stop starting work; the fence stops writes
            except Exception:
                log.warning("deployment #%s: heartbeat failed", self._id, exc_info=True)
                continue
            if due:
                last_beat = time.monotonic()

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- running -------------------------------------------------------------------------------
def aws_context(deployment: Deployment, stage: Stage) -> AwsContext:
    """Credentials per dashboard/credentials.py; the STS session is named after the run."""
    return credentials.stage_aws(
        stage,
        run=str(deployment.pk),
        project=deployment.project_name,
        stage_name=deployment.stage_name,
    )


def _engine_run(deployment: Deployment, stage: Stage, db: DbThread, watch: Watch) -> Outcome:
    aws = aws_context(deployment, stage)
    crash = reliability.crash_hook()  # only ever set by the reliability scenarios
    if crash is not None:
        aws.client_hooks.append(crash)
    options = engine.EngineSettings(
        max_workers=settings.ENGINE_MAX_WORKERS, pip_index_url=settings.PIP_INDEX_URL
    )
    store = _StoreOnDbThread(DbStateStore(stage, deployment), db)
    sink = _SinkOnDbThread(DbProgressSink(deployment), db)
    if deployment.kind == Deployment.Kind.PLAN:
        records = store.load()
        preview = MemoryStateStore(records)  # a plan must never write state
        plan = engine.plan(
            Blueprint.from_dict(deployment.blueprint), preview, aws, settings=options
        )
        # What "Deploy this plan" will compare against, and the facts its cost estimate needs.
        fingerprint = engine.fingerprint(deployment.blueprint, records)
        db.call(services_drift.record_fingerprint, deployment.pk, fingerprint)
        return Outcome(
            Status.SUCCEEDED, plan={**plan.as_dict(), "cost_inputs": cost.inputs(plan, records)}
        )
    if deployment.kind == Deployment.Kind.REFRESH:
        result = engine.refresh(store, sink, aws, settings=options)
        db.call(services_drift.record_drift, stage, result.plan.get("drift", []))
        return Outcome(result.status, error=result.error, counts=dict(result.counts), plan=result.plan)
    if deployment.kind == Deployment.Kind.DEPLOY:
        result = engine.deploy(
            Blueprint.from_dict(deployment.blueprint), store, sink, aws,
            settings=options, cancelled=watch.cancelled,
        )  # fmt: skip
    else:
        result = engine.destroy(store, sink, aws, settings=options, cancelled=watch.cancelled)
    return Outcome(result.status, error=result.error, counts=dict(result.counts), plan=result.plan)


def _execute(deployment: Deployment) -> Outcome:
    stage = deployment.stage
    if stage is None:
        return Outcome(Status.FAILED, error="the stage was deleted before the run started")
    if stage.target == Stage.Target.SANDBOX and not sandbox.is_running(
        settings.SANDBOX_ENDPOINT_URL
    ):
        return Outcome(Status.FAILED, error=sandbox_down_message(settings.SANDBOX_ENDPOINT_URL))
    db = DbThread(f"deployment-{deployment.pk}-db")
    try:
        with Watch(deployment.pk, db) as watch:
            return _engine_run(deployment, stage, db, watch)
    except RunSuperseded as exc:
        log.warning("deployment #%s stopped: %s", deployment.pk, exc)
        return Outcome(Status.FAILED, error=str(exc))  # `finish` finds it no longer RUNNING
    except EngineError as exc:
        return Outcome(Status.FAILED, error=str(exc))
    except Exception as exc:  # a bug, not the user's: full trace in the log, short line for them
        log.exception("deployment #%s crashed", deployment.pk)
        return Outcome(Status.FAILED, error=f"internal error: {type(exc).__name__}: {exc}")
    finally:
        db.close()


def _claim(deployment_id: int) -> bool:
    now = timezone.now()
    return bool(
        Deployment.objects.filter(pk=deployment_id, status=Status.QUEUED).update(
            status=Status.RUNNING, started_at=now, heartbeat_at=now
        )
    )


def run_deployment(deployment_id: int) -> Deployment | None:
    """Run it if it is still QUEUED; returns the finished row, or None if someone else has it."""
    deployment = (
        Deployment.objects.select_related("stage__project").filter(pk=deployment_id).first()
    )
    if deployment is None:
        log.warning("deployment #%s does not exist", deployment_id)
        return None
    if deployment.stage is not None:
        fail_stale_runs(stage=deployment.stage)
    if not _claim(deployment_id):
        log.info(
            "deployment #%s is not queued (%s): not running it", deployment_id, deployment.status
        )
        return None
    deployment.refresh_from_db()
    DbProgressSink(deployment).record(
        status="started",
        action=deployment.kind.upper(),
        message=f"{deployment.kind} of {deployment.project_name}/{deployment.stage_name} "
        f"started by {deployment.triggered_by_name or 'someone'}",
    )
    outcome = _execute(deployment)
    finish(deployment, outcome)
    return deployment
