"""The periodic jobs' actor: the scheduler sends, any worker does the job if still due."""

from __future__ import annotations

import logging

import dramatiq
from django.utils import timezone

from dashboard.scheduling import jobs

log = logging.getLogger(__name__)
TIME_LIMIT_MS = 5 * 60 * 1000  # a job only starts runs or flips rows: minutes mean it hangs


@dramatiq.actor(
    actor_name=jobs.ACTOR_NAME, queue_name=jobs.QUEUE, max_retries=0, time_limit=TIME_LIMIT_MS
)
def periodic_job(kind: str, target: str, slot: str) -> None:
    # Not retried: the next slot is the retry, and a claimed slot lapses (jobs.DueJob.lease_s).
    outcome = jobs.job_run(kind=kind, target=target, slot=slot, now=timezone.now())
    log.info("periodic %s %s (due %s): %s", kind, target or "-", slot, outcome)
