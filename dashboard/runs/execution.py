"""Run one deployment to its end: the synchronous core of the actors and the embedded CLI.

A run proceeds only if it flips its row QUEUED -> RUNNING itself, so a message
delivered twice runs once. While it runs it writes `heartbeat_at` every few seconds
and polls `cancel_requested`. Every state write and event of the engine is fenced
(dashboard/runs/reliability.py): once the row is no longer RUNNING, a late worker's
writes raise `RunSuperseded` and it stops. Before each create the engine records an
intent (`PendingOperation`), cleared by the save that confirms it. The engine calls
the store and the sink from its thread pool: those calls are funnelled through one
thread with one database connection, so nothing leaks a connection per pool thread
and writes stay ordered.
"""

from __future__ import annotations

import contextvars
import getpass
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections
from django.utils import timezone

from dashboard import logs
from dashboard.access import credentials
from dashboard.projects.models import Stage
from dashboard.runs import reliability, results
from dashboard.runs.lifecycle import Outcome, fail_stale_runs, finish, heartbeat_s
from dashboard.runs.models import Deployment
from dashboard.runs.progress import DbProgressSink
from dashboard.runs.store import DbStateStore
from provisioning import engine, sandbox
from provisioning.aws import AwsContext
from provisioning.errors import EngineError, RunSuperseded
from provisioning.events import Event
from provisioning.model.blueprint import Blueprint
from provisioning.state import MemoryStateStore, RecordedResource

log = logging.getLogger(__name__)
T = TypeVar("T")
Status = Deployment.Status


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


# --- the engine's threads -> one database thread -------------------------------------------
class DbThread:
    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        # The run's context (its id on log lines), taken where the run began: the engine's own
        # threads, which call in here, start with an empty one.
        self._context = contextvars.copy_context()

    def call(self, fn: Callable[..., T], /, *args: Any) -> T:
        return self._pool.submit(self._context.copy().run, fn, *args).result()

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
            target=logs.in_this_context(self._run), name=f"watch-{deployment_id}", daemon=True
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
    """Credentials per dashboard/access/credentials.py; the STS session is named after the run."""
    return credentials.stage_aws(
        stage,
        run=str(deployment.pk),
        project=deployment.project_name,
        stage_name=deployment.stage_name,
    )


@dataclass(frozen=True)
class _Run:
    """What every kind of run is handed: the row, the engine's wiring and the cancel flag."""

    deployment: Deployment
    stage: Stage
    aws: AwsContext
    store: _StoreOnDbThread
    sink: _SinkOnDbThread
    db: DbThread
    options: engine.EngineSettings
    cancelled: Callable[[], bool]


def _outcome(result: engine.RunResult) -> Outcome:
    return Outcome(result.status, error=result.error, counts=dict(result.counts), plan=result.plan)


def _plan(run: _Run) -> Outcome:
    records = run.store.load()
    preview = MemoryStateStore(records)  # a plan must never write state
    blueprint = run.deployment.blueprint
    plan = engine.plan(Blueprint.from_dict(blueprint), preview, run.aws, settings=run.options)
    # What "Deploy this plan" will compare against, and the facts its cost estimate needs.
    fingerprint = engine.fingerprint(blueprint, records)
    run.db.call(results.record_fingerprint, run.deployment.pk, fingerprint)
    return Outcome(
        Status.SUCCEEDED,
        plan={**plan.as_dict(), "cost_inputs": engine.cost_inputs(plan, records)},
    )


def _refresh(run: _Run) -> Outcome:
    result = engine.refresh(run.store, run.sink, run.aws, settings=run.options)
    run.db.call(results.record_drift, run.stage, result.plan.get("drift", []))
    return _outcome(result)


def _deploy(run: _Run) -> Outcome:
    blueprint = Blueprint.from_dict(run.deployment.blueprint)
    return _outcome(
        engine.deploy(
            blueprint, run.store, run.sink, run.aws, settings=run.options, cancelled=run.cancelled
        )
    )


def _destroy(run: _Run) -> Outcome:
    return _outcome(
        engine.destroy(run.store, run.sink, run.aws, settings=run.options, cancelled=run.cancelled)
    )


def _sweep(run: _Run) -> Outcome:
    orphans = list(run.deployment.plan.get("orphans") or [])
    outcome = _outcome(engine.sweep_orphans(orphans, run.sink, run.aws, cancelled=run.cancelled))
    outcome.plan = {"orphans": orphans}
    return outcome


_KINDS: dict[str, Callable[[_Run], Outcome]] = {
    Deployment.Kind.PLAN: _plan,
    Deployment.Kind.REFRESH: _refresh,
    Deployment.Kind.DEPLOY: _deploy,
    Deployment.Kind.DESTROY: _destroy,
    Deployment.Kind.SWEEP: _sweep,
}


def _engine_run(deployment: Deployment, stage: Stage, db: DbThread, watch: Watch) -> Outcome:
    aws = aws_context(deployment, stage)
    crash = reliability.crash_hook()  # only ever set by the reliability scenarios
    if crash is not None:
        aws.client_hooks.append(crash)
    options = engine.EngineSettings(
        max_workers=settings.ENGINE_MAX_WORKERS, pip_index_url=settings.PIP_INDEX_URL
    )
    run = _Run(
        deployment=deployment,
        stage=stage,
        aws=aws,
        store=_StoreOnDbThread(DbStateStore(stage, deployment), db),
        sink=_SinkOnDbThread(DbProgressSink(deployment), db),
        db=db,
        options=options,
        cancelled=watch.cancelled,
    )
    return _KINDS[deployment.kind](run)


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
    with logs.run_context(deployment_id):  # every line logged for it names the run
        return _run_deployment(deployment_id)


def _run_deployment(deployment_id: int) -> Deployment | None:
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
