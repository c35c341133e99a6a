"""The periodic jobs: which are due now, and doing one (after asking again whether it is due).

A job is named by its kind, its target and the slot it came due in. Every scheduler that
looks at the same moment computes the same name, so the name is what the scheduler's lease
is keyed by (dashboard/scheduling/scheduler.py), and the job runs once however many
schedulers there are.

- run sweep: every `DEPLOYMENT_SWEEP_PERIOD_S` (15 s; 0 turns it off) fail the RUNNING runs
  whose worker stopped beating, which frees their stage. Slot: the period's number.
- drift check: a stage with `drift_check_hours` set and something deployed is refreshed when
  its last refresh is older than that. Slot: the moment it came due ("first" if never
  refreshed); the refresh it starts is an ordinary run, shown in the stage's history.
- alarm watch: every `ALARM_WATCH_PERIOD_S` read the alarm states of every stage that has
  alarms and send each change to the project's notification channels.
- preview expiry: hourly. Preview stages do not exist yet; this is where removing the ones
  past their time will go, so it does nothing today.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.conf import settings

from dashboard.history import drift as drift_services
from dashboard.observe import alarm_watch
from dashboard.runs import lifecycle

log = logging.getLogger(__name__)
QUEUE = "periodic"
ACTOR_NAME = "periodic_job"
LEASE_PREFIX = "strands-deploy:scheduler"
DRIFT_RETRY_S = 15 * 60
"""A drift check that came due but did not start (the stage was busy, its message was lost)
is offered again after this long."""
PREVIEW_EXPIRY_PERIOD_S = 3600
ALARM_WATCH_PERIOD_S = 60


class Kind(StrEnum):
    RUN_SWEEP = "run-sweep"
    DRIFT_CHECK = "drift-check"
    PREVIEW_EXPIRY = "preview-expiry"
    ALARM_WATCH = "alarm-watch"


@dataclass(frozen=True)
class DueJob:
    kind: Kind
    target: str
    """A stage id for a drift check; empty for the jobs over every stage."""
    slot: str
    lease_s: int
    """How long the slot stays claimed: past it, a job that never happened is offered again."""

    @property
    def key(self) -> str:
        return f"{LEASE_PREFIX}:{self.kind}:{self.target}:{self.slot}"


def sweep_period_s() -> float:
    return float(settings.DEPLOYMENT_SWEEP_PERIOD_S)


def jobs_due(*, now: datetime) -> list[DueJob]:
    """Every job due at `now`, whether or not a scheduler has already claimed it."""
    return [
        *_sweeps_due(now),
        *_drift_checks_due(now),
        *_preview_expiries_due(now),
        _periodic(Kind.ALARM_WATCH, now, ALARM_WATCH_PERIOD_S),
    ]


def _periodic(kind: Kind, now: datetime, period_s: float) -> DueJob:
    slot = int(now.timestamp() // period_s)
    # Twice the period: a scheduler whose clock runs a little behind must still find it taken.
    return DueJob(kind, "", str(slot), lease_s=max(1, math.ceil(2 * period_s)))


def _sweeps_due(now: datetime) -> list[DueJob]:
    period = sweep_period_s()
    return [_periodic(Kind.RUN_SWEEP, now, period)] if period > 0 else []


def _drift_checks_due(now: datetime) -> list[DueJob]:
    return [
        DueJob(Kind.DRIFT_CHECK, str(stage.pk), slot, lease_s=DRIFT_RETRY_S)
        for stage, slot in drift_services.stages_due(now)
    ]


def _preview_expiries_due(now: datetime) -> list[DueJob]:
    return [_periodic(Kind.PREVIEW_EXPIRY, now, PREVIEW_EXPIRY_PERIOD_S)]


# --- doing a job (the worker's side) -----------------------------------------------------------
def job_run(*, kind: str, target: str, slot: str, now: datetime) -> str:
    """Do one job if it is still due; what happened, for the log."""
    try:
        run = _RUNNERS[Kind(kind)]
    except ValueError:
        return f"unknown job {kind!r}: ignored (sent by a newer scheduler?)"
    return run(target, slot, now)


def _run_sweep(target: str, slot: str, now: datetime) -> str:
    # Always due: failing a stale run is safe to repeat (only one sweep flips each run).
    failed = lifecycle.fail_stale_runs()
    if failed:
        log.warning("sweep: %d runs failed as interrupted (no heartbeat)", failed)
    return f"{failed} stale runs failed"


def _run_drift_check(target: str, slot: str, now: datetime) -> str:
    run = drift_services.drift_check_start_if_due(stage_id=int(target), now=now)
    if run is None:
        return f"stage {target}: not due any more, gone, or busy"
    return f"stage {target}: refresh #{run.pk} started"


def _run_preview_expiry(target: str, slot: str, now: datetime) -> str:
    return "no preview stages to expire"


def _run_alarm_watch(target: str, slot: str, now: datetime) -> str:
    announced = 0
    for stage in alarm_watch.stages_with_alarms():
        try:
            announced += len(alarm_watch.watch(stage))
        except Exception:  # one stage's failure must not stop the others' watch
            log.exception("alarm watch of %s failed", stage)
    return f"{announced} alarm changes announced"


_RUNNERS: dict[Kind, Callable[[str, str, datetime], str]] = {
    Kind.RUN_SWEEP: _run_sweep,
    Kind.DRIFT_CHECK: _run_drift_check,
    Kind.PREVIEW_EXPIRY: _run_preview_expiry,
    Kind.ALARM_WATCH: _run_alarm_watch,
}
