"""ResourceGraph + recorded state + live reads -> Plan (data, no AWS writes).

Reads run in parallel (one `get_current_state` per resource, or one `read_many` per
type where AWS lists many at once);
the diff then walks the graph in dependency order, so that a resource whose
producer is being created or replaced sees that value as "known after apply".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from provisioning.aws import AwsContext
from provisioning.graph.resource_graph import ResourceGraph
from provisioning.model.naming import AWS, account_suffix
from provisioning.model.spec import has_unresolved, resolve, to_jsonable
from provisioning.provisioners import provisioner_for
from provisioning.provisioners.base import Action, Change, Current, Provisioner, ReadRequest
from provisioning.state import RecordedResource

Problem = tuple[str, str, str]


@dataclass
class Plan:
    changes: list[Change]
    """Creates and updates in dependency order, then deletes."""
    problems: list[Problem] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    current: dict[str, Current | None] = field(default_factory=dict)
    advice: list[dict[str, str]] = field(default_factory=list)
    """What `engine.advise` found in the blueprint (`Advice.as_dict()` each)."""

    def by_id(self) -> dict[str, Change]:
        return {c.logical_id: c for c in self.changes}

    def summary(self) -> dict[str, int]:
        return dict(Counter(c.action.value for c in self.changes))

    @property
    def has_changes(self) -> bool:
        return any(c.action is not Action.NO_CHANGE or c.adopt for c in self.changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": [_change_dict(c) for c in self.changes],
            "summary": self.summary(),
            "decisions": list(self.decisions),
            "problems": [{"node": n, "field": f, "message": m} for n, f, m in self.problems],
            "advice": [dict(a) for a in self.advice],
        }


def _change_dict(change: Change) -> dict[str, Any]:
    return {
        "logical_id": change.logical_id,
        "resource_type": change.resource_type,
        "node": change.node,
        "action": change.action.value,
        "reason": change.reason,
        "adopt": change.adopt,
        "changes": [pc.as_dict() for pc in change.changes],
    }


def pseudo_outputs(aws: AwsContext) -> dict[str, dict[str, Any]]:
    return {
        AWS: {
            "account_id": aws.account_id,
            "region": aws.region,
            "partition": aws.partition,
            "name_suffix": account_suffix(aws.account_id, aws.project, aws.stage),
        }
    }


def make_plan(
    graph: ResourceGraph,
    records: Mapping[str, RecordedResource],
    aws: AwsContext,
    *,
    max_workers: int = 16,
    refresh: bool = True,
    intents: Mapping[str, RecordedResource] | None = None,
) -> Plan:
    """With `refresh=False` the recorded state stands in for AWS: no read call at all
    (a quick preview, like `terraform plan -refresh=false`).

    A resource found by name rather than by a recorded id is adopted only when its tags
    say it is this stage's; otherwise the plan carries a problem naming its owner, and
    a deploy stops before any write. `intents` are creates an interrupted run started."""
    order = graph.order()
    known = {**{lid: dict(r.outputs) for lid, r in records.items()}, **pseudo_outputs(aws)}
    provisioners = {
        t: provisioner_for(t)(aws) for t in {s.resource_type for s in graph.specs.values()}
    }
    taken: list[Problem] = []
    if refresh:
        reads = _Reads(graph, records, intents or {}, provisioners)
        current = reads.all(known, max_workers)
        taken = sorted(reads.taken)
    else:
        current = {lid: _from_record(records.get(lid)) for lid in graph.specs}

    changes: list[Change] = []
    for logical_id in order:
        spec = graph.specs[logical_id]
        wanted = resolve(spec.properties, known, partial=True)
        change = provisioners[spec.resource_type].plan(
            logical_id, wanted, records.get(logical_id), current[logical_id]
        )
        change = _with_node(change, spec.node)
        if change.action in (Action.CREATE, Action.REPLACE):
            known.pop(logical_id, None)  # its outputs are new: dependents see "known after apply"
        elif current[logical_id] is not None:
            known[logical_id] = dict(current[logical_id].outputs)  # type: ignore[union-attr]
        changes.append(change)
    changes.extend(_deletions(graph, records))
    return Plan(changes=changes, problems=[*graph.problems, *taken], current=current)


class _Reads:
    """Live state of every resource in the graph, read in parallel."""

    def __init__(
        self,
        graph: ResourceGraph,
        records: Mapping[str, RecordedResource],
        intents: Mapping[str, RecordedResource],
        provisioners: Mapping[str, Provisioner],
    ) -> None:
        self.graph = graph
        self.records = records
        self.intents = intents
        self.provisioners = provisioners
        self.taken: list[Problem] = []
        """Resources whose name another owner holds: (node, "name", message)."""

    def all(
        self, known: Mapping[str, Mapping[str, Any]], max_workers: int
    ) -> dict[str, Current | None]:
        """Recorded resources are found by their physical ids, so they are all read at
        once (in batches where a type `reads_together`: one per type and `batch_key`). The
        rest are looked up by name level by level, so that a resource made by a run that
        crashed before saving it lends its outputs (found by name) to what depends on it."""
        graph, records = self.graph, self.records
        outputs = {k: dict(v) for k, v in known.items()}
        current: dict[str, Current | None] = {}

        def request(logical_id: str) -> ReadRequest | None:
            props = resolve(graph.specs[logical_id].properties, outputs, partial=True)
            recorded = records.get(logical_id)
            if recorded is None and has_unresolved(props):
                return None  # something it needs does not exist yet: neither can it
            return props, recorded

        def read_wave(pool: ThreadPoolExecutor, logical_ids: list[str]) -> None:
            pending: list[tuple[str, ReadRequest]] = []
            for logical_id in logical_ids:
                req = request(logical_id)
                if req is None:
                    current[logical_id] = None
                else:
                    pending.append((logical_id, req))
            for results in pool.map(self._read, _batches(pending, graph, self.provisioners)):
                for logical_id, found in results:
                    current[logical_id] = found
                    if found is not None:
                        outputs[logical_id] = dict(found.outputs)

        with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
            read_wave(pool, [lid for lid in graph.order() if lid in records])
            for level in graph.levels():
                read_wave(pool, [lid for lid in level if lid not in records])
        return current

    def _read(self, batch: list[tuple[str, ReadRequest]]) -> list[tuple[str, Current | None]]:
        provisioner = self.provisioners[self.graph.specs[batch[0][0]].resource_type]
        found = provisioner.read_many([req for _, req in batch])
        return [
            (lid, self._owned(provisioner, lid, cur))
            for (lid, _), cur in zip(batch, found, strict=True)
        ]

    def _owned(
        self, provisioner: Provisioner, logical_id: str, found: Current | None
    ) -> Current | None:
        """What was found, unless it was found by name and belongs to someone else: that
        one is neither adopted nor lends its outputs to what depends on it."""
        if found is None or logical_id in self.records:
            return found
        problem = provisioner.ownership_problem(
            logical_id, found, intended=logical_id in self.intents
        )
        if problem is None:
            return found
        self.taken.append((self.graph.specs[logical_id].node or logical_id, "name", problem))
        return None


def _batches(
    pending: list[tuple[str, ReadRequest]],
    graph: ResourceGraph,
    provisioners: Mapping[str, Provisioner],
) -> list[list[tuple[str, ReadRequest]]]:
    """One batch per type and `batch_key` where the type reads together; one per resource
    otherwise."""
    grouped: dict[tuple[str, str], list[tuple[str, ReadRequest]]] = {}
    alone: list[list[tuple[str, ReadRequest]]] = []
    for item in pending:
        provisioner = provisioners[graph.specs[item[0]].resource_type]
        if provisioner.reads_together:
            key = (provisioner.resource_type, provisioner.batch_key(item[1]))
            grouped.setdefault(key, []).append(item)
        else:
            alone.append([item])
    # Batches first: each stands for many resources, so it is the longest to wait for.
    return [*grouped.values(), *alone]


def _from_record(record: RecordedResource | None) -> Current | None:
    return None if record is None else Current(dict(record.properties), dict(record.outputs))


def _with_node(change: Change, node: str | None) -> Change:
    return replace(change, node=node)


def _deletions(graph: ResourceGraph, records: Mapping[str, RecordedResource]) -> list[Change]:
    gone = [r for lid, r in records.items() if lid not in graph.specs]
    return [
        Change(
            r.logical_id,
            r.resource_type,
            Action.DELETE,
            reason="no longer in the project",
            node=r.node,
            properties=to_jsonable(r.properties),
        )
        for r in sorted(gone, key=lambda r: r.logical_id)
    ]
