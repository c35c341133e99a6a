"""Runs a Plan against AWS along its dependency graph, in parallel, saving as it goes.

The pipeline, end to end:
  blueprint --graph.build--> ResourceGraph (specs with Ref dependencies)
            --planner.make_plan--> Plan (reads only: CREATE / UPDATE / REPLACE / DELETE / NO_CHANGE)
            --Orchestrator.apply--> AWS writes.

`apply` keeps a ready set (provisioning/apply/scheduler.py): a resource is ready when
every resource it depends on has finished. Up to `max_workers` run at once; when more are
ready than slots, the one with the longest remaining chain of dependents (by expected
seconds) goes first, so the critical path is never starved. For each resource:
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

from collections.abc import Callable, Mapping
from typing import Any

from provisioning.apply.scheduler import Job, Scheduler, Tally
from provisioning.aws import AwsContext
from provisioning.errors import error_message
from provisioning.events import EventStatus, ProgressSink
from provisioning.model.spec import ResourceSpec, properties_hash, resolve, to_jsonable
from provisioning.plan.planner import Plan, pseudo_outputs
from provisioning.provisioners import provisioner_for
from provisioning.provisioners.base import Action, Change, Provisioner
from provisioning.provisioners.intents import find_leftover
from provisioning.state import RecordedResource, StateStore
from provisioning.strands.layers import Builds


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
        self.tally = Tally()
        self.scheduler = Scheduler(
            aws, sink, self.tally, max_workers=max_workers, cancelled=cancelled
        )
        self.limit = self.scheduler.limit
        self._provisioners: dict[str, Provisioner] = {}

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
            self.scheduler.info(
                f"resuming after an interrupted run: {len(intents)} create(s) were in flight "
                f"({', '.join(sorted(intents)[:5])}{', ...' if len(intents) > 5 else ''}); "
                "each is looked up in AWS before anything is made"
            )
        outputs: dict[str, dict[str, Any]] = {
            **{lid: dict(r.outputs) for lid, r in records.items()},
            **pseudo_outputs(self.aws),
        }
        jobs: dict[str, Job] = {}
        for change in plan.changes:
            if change.action is Action.DELETE:
                continue
            spec = specs[change.logical_id]
            if change.action is Action.NO_CHANGE:
                self._record_unchanged(change, spec, plan, outputs, records)
                continue
            jobs[spec.logical_id] = Job(
                spec.logical_id,
                {d for d in spec.dependencies() if d in specs},
                self._apply_one(change, spec, records.get(spec.logical_id), outputs),
                spec.resource_type,
                change.action.value,
            )
        for job in jobs.values():
            job.deps &= jobs.keys()  # unchanged dependencies are already done
        self.scheduler.run(jobs)
        deletions = {c.logical_id for c in plan.changes if c.action is Action.DELETE}
        strays = {lid: i for lid, i in intents.items() if lid not in specs}
        if (deletions or strays) and not self.tally.failed and not self.scheduler.stop():
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
                self.scheduler.note_for(spec.logical_id, spec.resource_type, change.action.value)(
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
            lid: Job(
                lid, set(dependents[lid]), self._destroy_one(record), record.resource_type, "DELETE"
            )
            for lid, record in records.items()
        }
        self.scheduler.run(jobs)
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
                job = Job(lid, set(), lambda: None, intent.resource_type, "DELETE")
                self.tally.failed += 1
                self.tally.errors.append(error_message(exc))
                self.scheduler.event(
                    job, EventStatus.FAILED, f"looking for it: {error_message(exc)}"
                )
                continue
            if leftover is None:
                self.store.clear_intent(lid)
            else:
                found[lid] = leftover
                self.scheduler.info(f"{lid}: made by an interrupted run, found in AWS: deleting it")
        return found


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
