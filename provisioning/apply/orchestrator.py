"""Runs a Plan against AWS along its dependency graph, in parallel, saving as it goes.

The pipeline, end to end:
  blueprint --graph.build--> ResourceGraph (specs with Ref dependencies)
            --planner.make_plan--> Plan (reads only: CREATE / UPDATE / REPLACE / DELETE / NO_CHANGE)
            --Orchestrator.apply--> AWS writes.

`apply` keeps a ready set: a resource is ready when every resource it depends on
has finished. Up to `max_workers` run at once; when more are ready than slots,
the one with the longest remaining chain of dependents (by expected seconds)
goes first, so the critical path is never starved. For each resource:
event `started` -> provisioner call -> `store.save` -> event `succeeded`.
State is saved after every resource, and an intent is saved before every create,
so a crash loses at most the calls in flight, and those are found again by
deterministic name on the next run (see provisioning/provisioners/intents.py): adopted when the
blueprint still wants them, deleted when it does not or on destroy.
A failure marks that resource `failed` and everything that depends on it
`skipped`; independent branches finish. Deletions (resources no longer in the
blueprint, or everything on destroy) run afterwards in reverse dependency order.

When AWS throttles, the in-flight limit halves and creeps back (provisioning/apply/concurrency.py);
each change is an INFO event. A provisioner that waits (ENIs holding a subnet) says so
through `aws.note`, which becomes an INFO event of its resource. A store or sink that
raises `RunSuperseded` (this run lost its fence) stops the run: nothing more is started.
"""

from __future__ import annotations

import heapq
import queue
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from provisioning.apply.concurrency import AdaptiveLimit, LimitChange
from provisioning.aws import AwsContext
from provisioning.errors import RunSuperseded, error_message
from provisioning.events import Event, EventStatus, ProgressSink
from provisioning.model.spec import ResourceSpec, properties_hash, resolve, to_jsonable
from provisioning.plan.planner import Plan, pseudo_outputs
from provisioning.provisioners import provisioner_for
from provisioning.provisioners.base import Action, Change, Provisioner
from provisioning.provisioners.intents import find_leftover
from provisioning.state import RecordedResource, StateStore
from provisioning.strands.packaging import Builds

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
class _Job:
    logical_id: str
    deps: set[str]
    run: Callable[[], None]
    resource_type: str
    action: str


class Orchestrator:
    def __init__(
        self,
        aws: AwsContext,
        store: StateStore,
        sink: ProgressSink,
        *,
        max_workers: int = 16,
        cancelled: Callable[[], bool] = lambda: False,
        builds: Builds | None = None,
    ) -> None:
        self.aws = aws
        self.builds = builds
        self.store = store
        self.sink = sink
        self.max_workers = max(1, max_workers)
        self.cancelled = cancelled
        self.tally = Tally()
        self.limit = AdaptiveLimit(self.max_workers, floor=min(2, self.max_workers))
        self._provisioners: dict[str, Provisioner] = {}
        self._notes: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._superseded: RunSuperseded | None = None
        aws.on_throttle(self._throttled)

    def provisioner(self, resource_type: str) -> Provisioner:
        if resource_type not in self._provisioners:
            self._provisioners[resource_type] = provisioner_for(resource_type)(
                self.aws, self.builds
            )
        return self._provisioners[resource_type]

    # --- deploy ----------------------------------------------------------------------------
    def apply(self, plan: Plan, specs: Mapping[str, ResourceSpec]) -> Tally:
        records = self.store.load()
        intents = self.store.intents()
        if intents:
            self._info(
                f"resuming after an interrupted run: {len(intents)} create(s) were in flight "
                f"({', '.join(sorted(intents)[:5])}{', ...' if len(intents) > 5 else ''}); "
                "each is looked up in AWS before anything is made"
            )
        outputs: dict[str, dict[str, Any]] = {
            **{lid: dict(r.outputs) for lid, r in records.items()},
            **pseudo_outputs(self.aws),
        }
        jobs: dict[str, _Job] = {}
        for change in plan.changes:
            if change.action is Action.DELETE:
                continue
            spec = specs[change.logical_id]
            if change.action is Action.NO_CHANGE:
                self._record_unchanged(change, spec, plan, outputs, records)
                continue
            jobs[spec.logical_id] = _Job(
                spec.logical_id,
                {d for d in spec.dependencies() if d in specs},
                self._apply_one(change, spec, records.get(spec.logical_id), outputs),
                spec.resource_type,
                change.action.value,
            )
        for job in jobs.values():
            job.deps &= jobs.keys()  # unchanged dependencies are already done
        self._run(jobs)
        deletions = {c.logical_id for c in plan.changes if c.action is Action.DELETE}
        strays = {lid: i for lid, i in intents.items() if lid not in specs}
        if (deletions or strays) and not self.tally.failed and not self._stop():
            wanted = {lid: r for lid, r in self.store.load().items() if lid in deletions}
            self.destroy(wanted, intents=strays)
        return self.tally

    def _record_unchanged(
        self,
        change: Change,
        spec: ResourceSpec,
        plan: Plan,
        outputs: dict[str, dict[str, Any]],
        records: Mapping[str, RecordedResource],
    ) -> None:
        current = plan.current.get(change.logical_id)
        if current is not None:
            outputs[change.logical_id] = dict(current.outputs)
            if change.adopt or change.logical_id not in records:
                # AWS has it, the state did not (a crash after create): record, never recreate.
                props = resolve(spec.properties, outputs)
                self._save(spec, props, dict(current.outputs))
                self._note_for(spec.logical_id, spec.resource_type, change.action.value)(
                    "found in AWS (made by an interrupted run): recorded, not made again"
                )
        self.tally.unchanged += 1

    def _apply_one(
        self,
        change: Change,
        spec: ResourceSpec,
        recorded: RecordedResource | None,
        outputs: dict[str, dict[str, Any]],
    ) -> Callable[[], None]:
        def run() -> None:
            provisioner = self.provisioner(spec.resource_type)
            props = resolve(spec.properties, outputs)
            current = None
            if change.action is Action.UPDATE:
                current = provisioner.get_current_state(props, recorded)
            if change.action is Action.REPLACE and recorded is not None:
                provisioner.destroy(recorded)
            if current is None:
                self.store.save_intent(_record(spec, props, {}))
            result = provisioner.provision(spec.logical_id, props, current)
            outputs[spec.logical_id] = result
            self._save(spec, props, result)

        return run

    def _save(
        self, spec: ResourceSpec, props: Mapping[str, Any], result: Mapping[str, Any]
    ) -> None:
        self.store.save(_record(spec, props, result))

    # --- destroy ---------------------------------------------------------------------------
    def destroy(
        self,
        records: Mapping[str, RecordedResource],
        *,
        intents: Mapping[str, RecordedResource] | None = None,
    ) -> Tally:
        """Delete these resources, each after everything among them that depends on it.

        `intents` are unconfirmed creates: each is looked up by name first and, if AWS
        has it, deleted with the rest (no orphan); if not, the intent is dropped.
        """
        records = {**self._leftovers(intents or {}, records), **records}
        dependents: dict[str, set[str]] = {lid: set() for lid in records}
        for lid, record in records.items():
            for dep in record.depends_on:
                if dep in dependents:
                    dependents[dep].add(lid)
        jobs = {
            lid: _Job(
                lid, set(dependents[lid]), self._destroy_one(record), record.resource_type, "DELETE"
            )
            for lid, record in records.items()
        }
        self._run(jobs)
        return self.tally

    def _destroy_one(self, record: RecordedResource) -> Callable[[], None]:
        def run() -> None:
            self.provisioner(record.resource_type).destroy(record)
            self.store.delete(record.logical_id)
            self.store.clear_intent(record.logical_id)

        return run

    def _leftovers(
        self, intents: Mapping[str, RecordedResource], records: Mapping[str, RecordedResource]
    ) -> dict[str, RecordedResource]:
        found: dict[str, RecordedResource] = {}
        for lid, intent in sorted(intents.items()):
            if lid in records:
                continue
            try:
                leftover = find_leftover(self.provisioner(intent.resource_type), intent)
            except Exception as exc:  # shown on the resource; its intent stays
                job = _Job(lid, set(), lambda: None, intent.resource_type, "DELETE")
                self.tally.failed += 1
                self.tally.errors.append(error_message(exc))
                self._event(job, EventStatus.FAILED, f"looking for it: {error_message(exc)}")
                continue
            if leftover is None:
                self.store.clear_intent(lid)
            else:
                found[lid] = leftover
                self._info(f"{lid}: made by an interrupted run, found in AWS: deleting it")
        return found

    # --- scheduling ------------------------------------------------------------------------
    def _run(self, jobs: Mapping[str, _Job]) -> None:
        if not jobs:
            return
        priority = _critical_path(jobs)
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
                while ready and len(running) < self.limit.current and not self._stop():
                    _, lid = heapq.heappop(ready)
                    job = jobs[lid]
                    self._event(job, EventStatus.STARTED)
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
                        self._event(jobs[lid], EventStatus.SUCCEEDED, elapsed_ms=elapsed)
                        for nxt in dependents[lid]:
                            waiting[nxt].discard(lid)
                            if not waiting[nxt] and nxt not in done:
                                heapq.heappush(ready, (-priority[nxt], nxt))
                    else:
                        self.tally.failed += 1
                        message = error_message(error)
                        self.tally.errors.append(message)
                        self._event(jobs[lid], EventStatus.FAILED, message, elapsed_ms=elapsed)
                        self._skip_dependents(lid, jobs, dependents, done, f"{lid} failed")
        self._flush_notes()
        if self._superseded is not None:
            raise self._superseded
        for lid in sorted(set(jobs) - done):
            self.tally.skipped += 1
            reason = "cancelled" if self.tally.cancelled else "not started"
            self._event(jobs[lid], EventStatus.SKIPPED, reason)

    def _stop(self) -> bool:
        if self._superseded is not None:
            return True
        if not self.tally.cancelled and self.cancelled():
            self.tally.cancelled = True
        return self.tally.cancelled

    def _traced(self, job: _Job) -> Callable[[], None]:
        """The job, with `aws.note` from its thread going to its resource's events."""
        note = self._note_for(job.logical_id, job.resource_type, job.action)

        def run() -> None:
            self.aws.listen_for_notes(note)
            try:
                job.run()
            finally:
                self.aws.listen_for_notes(None)

        return run

    def _note_for(self, lid: str, resource_type: str, action: str) -> Callable[[str], None]:
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

    def _info(self, message: str) -> None:
        self.sink.emit(Event(None, None, "APPLY", EventStatus.INFO, message))

    def _skip_dependents(
        self,
        failed: str,
        jobs: Mapping[str, _Job],
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
            self._event(jobs[lid], EventStatus.SKIPPED, reason)
            stack.extend(dependents[lid])

    def _event(
        self, job: _Job, status: EventStatus, message: str = "", *, elapsed_ms: int | None = None
    ) -> None:
        self.sink.emit(
            Event(job.logical_id, job.resource_type, job.action, status, message, elapsed_ms)
        )


def _record(
    spec: ResourceSpec, props: Mapping[str, Any], result: Mapping[str, Any]
) -> RecordedResource:
    plain = to_jsonable(props)
    return RecordedResource(
        logical_id=spec.logical_id,
        resource_type=spec.resource_type,
        physical_id=str(result.get("physical_id", "")),
        arn=str(result.get("arn", "")),
        outputs=dict(result),
        properties_hash=properties_hash(plain),
        properties=plain,
        node=spec.node,
        depends_on=tuple(sorted(spec.dependencies())),
    )


def _critical_path(jobs: Mapping[str, _Job]) -> dict[str, float]:
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
