"""The ready-set scheduler: runs jobs along their dependencies, in parallel, with events.

A job is ready when every job it depends on has finished. Up to the adaptive limit run
at once; when more are ready than slots, the one with the longest remaining chain of
dependents (by expected seconds) goes first, so the critical path is never starved.
"""

from __future__ import annotations

import heapq
import queue
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from provisioning.apply.concurrency import AdaptiveLimit, LimitChange
from provisioning.aws import AwsContext
from provisioning.errors import RunSuperseded, error_message
from provisioning.events import Event, EventStatus, ProgressSink

# Rough seconds per resource type on real AWS, to rank the critical path.
EXPECTED_SECONDS = {
    "lambda:function": 3.0,
    "iam:role": 1.5,
    "dynamodb:table": 8.0,
    "ec2:nat-gateway": 90.0,
    "ec2:vpc-endpoint": 30.0,
    "apigw:api": 0.5,
    # Publishing the Strands dependency layer uploads tens of MB; every function waits for it.
    "lambda:layer-version": 6.0,
}
DEFAULT_SECONDS = 0.5
POLL_S = 0.5
"""How often the scheduler wakes while waiting, to pass on notes and limit changes."""


@dataclass
class Tally:
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    cancelled: bool = False

    def counts(self) -> dict[str, int]:
        total = self.succeeded + self.failed + self.skipped + self.unchanged
        return {
            "succeeded": self.succeeded,
            "failed": self.failed,
            "skipped": self.skipped,
            "unchanged": self.unchanged,
            "total": total,
        }

    @property
    def status(self) -> str:
        if self.failed:
            return "FAILED"
        return "CANCELLED" if self.cancelled else "SUCCEEDED"


@dataclass
class Job:
    """One resource's work, runnable once everything in `deps` has finished."""

    logical_id: str
    deps: set[str]
    run: Callable[[], None]
    resource_type: str
    action: str


class Scheduler:
    """Runs jobs, counts outcomes in `tally` and reports each through `sink`."""

    def __init__(
        self,
        aws: AwsContext,
        sink: ProgressSink,
        tally: Tally,
        *,
        max_workers: int,
        cancelled: Callable[[], bool],
    ) -> None:
        self.aws = aws
        self.sink = sink
        self.tally = tally
        self.max_workers = max(1, max_workers)
        self.cancelled = cancelled
        self.limit = AdaptiveLimit(self.max_workers, floor=min(2, self.max_workers))
        self._notes: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._superseded: RunSuperseded | None = None
        aws.on_throttle(self._throttled)

    def run(self, jobs: Mapping[str, Job]) -> None:
        if not jobs:
            return
        priority = critical_path(jobs)
        waiting = {lid: set(job.deps) for lid, job in jobs.items()}
        dependents: dict[str, set[str]] = {lid: set() for lid in jobs}
        for lid, job in jobs.items():
            for dep in job.deps:
                dependents[dep].add(lid)
        ready: list[tuple[float, str]] = []
        for lid, deps in waiting.items():
            if not deps:
                heapq.heappush(ready, (-priority[lid], lid))
        running: dict[Future[None], tuple[str, float]] = {}
        done: set[str] = set()

        with ThreadPoolExecutor(
            max_workers=self.max_workers, thread_name_prefix="provision"
        ) as pool:
            while ready or running:
                while ready and len(running) < self.limit.current and not self.stop():
                    _, lid = heapq.heappop(ready)
                    job = jobs[lid]
                    self.event(job, EventStatus.STARTED)
                    running[pool.submit(self._traced(job))] = (lid, time.monotonic())
                if not running:
                    break
                finished, _ = wait(running, timeout=POLL_S, return_when=FIRST_COMPLETED)
                self._flush_notes()
                for future in finished:
                    lid, started = running.pop(future)
                    elapsed = int((time.monotonic() - started) * 1000)
                    error = future.exception()
                    done.add(lid)
                    if isinstance(error, RunSuperseded):
                        self._superseded = error
                        continue
                    if error is None:
                        self._limit_changed(self.limit.finished())
                        self.tally.succeeded += 1
                        self.event(jobs[lid], EventStatus.SUCCEEDED, elapsed_ms=elapsed)
                        for nxt in dependents[lid]:
                            waiting[nxt].discard(lid)
                            if not waiting[nxt] and nxt not in done:
                                heapq.heappush(ready, (-priority[nxt], nxt))
                    else:
                        self.tally.failed += 1
                        message = error_message(error)
                        self.tally.errors.append(message)
                        self.event(jobs[lid], EventStatus.FAILED, message, elapsed_ms=elapsed)
                        self._skip_dependents(lid, jobs, dependents, done, f"{lid} failed")
        self._flush_notes()
        if self._superseded is not None:
            raise self._superseded
        for lid in sorted(set(jobs) - done):
            self.tally.skipped += 1
            reason = "cancelled" if self.tally.cancelled else "not started"
            self.event(jobs[lid], EventStatus.SKIPPED, reason)

    def stop(self) -> bool:
        if self._superseded is not None:
            return True
        if not self.tally.cancelled and self.cancelled():
            self.tally.cancelled = True
        return self.tally.cancelled

    def _traced(self, job: Job) -> Callable[[], None]:
        """The job, with `aws.note` from its thread going to its resource's events."""
        note = self.note_for(job.logical_id, job.resource_type, job.action)

        def run() -> None:
            self.aws.listen_for_notes(note)
            try:
                job.run()
            finally:
                self.aws.listen_for_notes(None)

        return run

    def note_for(self, lid: str, resource_type: str, action: str) -> Callable[[str], None]:
        def note(message: str) -> None:
            self._notes.put(Event(lid, resource_type, action, EventStatus.INFO, message))

        return note

    def _throttled(self, action: str) -> None:
        # Called on botocore's threads: queue the event, the scheduler's thread sends it.
        self._limit_changed(self.limit.throttled(action))

    def _limit_changed(self, change: LimitChange | None) -> None:
        if change is not None:
            self._notes.put(Event(None, None, "APPLY", EventStatus.INFO, change.message()))

    def _flush_notes(self) -> None:
        while True:
            try:
                event = self._notes.get_nowait()
            except queue.Empty:
                return
            self.sink.emit(event)

    def info(self, message: str) -> None:
        self.sink.emit(Event(None, None, "APPLY", EventStatus.INFO, message))

    def _skip_dependents(
        self,
        failed: str,
        jobs: Mapping[str, Job],
        dependents: Mapping[str, set[str]],
        done: set[str],
        reason: str,
    ) -> None:
        stack = list(dependents[failed])
        while stack:
            lid = stack.pop()
            if lid in done:
                continue
            done.add(lid)
            self.tally.skipped += 1
            self.event(jobs[lid], EventStatus.SKIPPED, reason)
            stack.extend(dependents[lid])

    def event(
        self, job: Job, status: EventStatus, message: str = "", *, elapsed_ms: int | None = None
    ) -> None:
        self.sink.emit(
            Event(job.logical_id, job.resource_type, job.action, status, message, elapsed_ms)
        )


def critical_path(jobs: Mapping[str, Job]) -> dict[str, float]:
    """Expected seconds from the start of each job to the end of its longest chain of dependents."""
    dependents: dict[str, list[str]] = {lid: [] for lid in jobs}
    for lid, job in jobs.items():
        for dep in job.deps:
            dependents[dep].append(lid)
    memo: dict[str, float] = {}

    def length(lid: str) -> float:
        if lid not in memo:
            own = EXPECTED_SECONDS.get(jobs[lid].resource_type, DEFAULT_SECONDS)
            memo[lid] = own + max((length(d) for d in dependents[lid]), default=0.0)
        return memo[lid]

    for lid in jobs:
        length(lid)
    return memo
