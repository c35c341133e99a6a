"""The orchestrator: dependency order, parallelism, failure isolation, cancel, resume."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from provisioning import provisioners
from provisioning.apply.concurrency import AdaptiveLimit
from provisioning.apply.orchestrator import Orchestrator
from provisioning.aws import AwsContext
from provisioning.errors import RunSuperseded
from provisioning.events import EventStatus, ListSink
from provisioning.graph.resource_graph import ResourceGraph
from provisioning.model.spec import Ref, ResourceSpec
from provisioning.plan.planner import make_plan
from provisioning.provisioners.base import Action
from provisioning.state import MemoryStateStore, RecordedResource
from tests.provisioning import fakes


@pytest.fixture(autouse=True)
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[fakes.FakeCloud]:
    monkeypatch.setitem(provisioners.REGISTRY, "fake:thing", fakes.FakeThing)
    fresh = fakes.FakeCloud()
    monkeypatch.setattr(fakes, "CLOUD", fresh)
    yield fresh


def thing(lid: str, *deps: str, value: int = 1) -> ResourceSpec:
    props = {"name": lid.replace("/", "-"), "value": value, "deps": [Ref(d, "arn") for d in deps]}
    return ResourceSpec(lid, "fake:thing", props, node=f"agent:{lid.split('/')[0]}")


def graph_of(*specs: ResourceSpec) -> ResourceGraph:
    return ResourceGraph({s.logical_id: s for s in specs})


def deploy(
    graph: ResourceGraph, store: MemoryStateStore, aws: AwsContext, **kw: object
) -> tuple[object, ListSink]:
    sink = ListSink()
    plan = make_plan(graph, store.load(), aws)
    tally = Orchestrator(aws, store, sink, **kw).apply(plan, graph.specs)  # type: ignore[arg-type]
    return tally, sink


def statuses(sink: ListSink) -> dict[str, str]:
    return {e.resource: e.status.value for e in sink.events if e.resource}


def test_resources_are_made_after_what_they_reference(aws: AwsContext) -> None:
    store = MemoryStateStore()
    graph = graph_of(thing("c", "b"), thing("b", "a"), thing("a"))

    tally, _sink = deploy(graph, store, aws)

    created = [name for call, name in fakes.CLOUD.writes()]
    assert created == ["a", "b", "c"]
    assert tally.status == "SUCCEEDED"  # type: ignore[attr-defined]
    assert fakes.CLOUD.resources["c"]["deps"] == ["arn:fake:b"]  # the Ref was resolved
    assert set(store.load()) == {"a", "b", "c"}


def test_independent_resources_run_in_parallel_up_to_the_limit(aws: AwsContext) -> None:
    fakes.CLOUD.delay_s = 0.05
    graph = graph_of(*(thing(f"r{i}") for i in range(12)))

    deploy(graph, MemoryStateStore(), aws, max_workers=4)

    assert fakes.CLOUD.max_active == 4


def test_a_failure_skips_dependents_and_lets_independent_work_finish(aws: AwsContext) -> None:
    fakes.CLOUD.fail.add("b")
    store = MemoryStateStore()
    graph = graph_of(thing("a"), thing("b", "a"), thing("c", "b"), thing("d"))

    tally, sink = deploy(graph, store, aws)

    assert statuses(sink) == {"a": "succeeded", "b": "failed", "c": "skipped", "d": "succeeded"}
    failed = next(e for e in sink.events if e.status is EventStatus.FAILED)
    assert "InjectedFailure" in failed.message
    assert tally.status == "FAILED"  # type: ignore[attr-defined]
    assert set(store.load()) == {"a", "d"}  # what succeeded is recorded


def test_the_next_deploy_picks_up_where_a_failed_one_stopped(aws: AwsContext) -> None:
    fakes.CLOUD.fail.add("b")
    store = MemoryStateStore()
    graph = graph_of(thing("a"), thing("b", "a"), thing("c", "b"))
    deploy(graph, store, aws)
    fakes.CLOUD.fail.clear()
    fakes.CLOUD.calls.clear()

    tally, _ = deploy(graph, store, aws)

    assert [n for _, n in fakes.CLOUD.writes()] == ["b", "c"]
    assert tally.status == "SUCCEEDED"  # type: ignore[attr-defined]


def test_an_unchanged_project_makes_no_write_and_one_read_per_resource(aws: AwsContext) -> None:
    store = MemoryStateStore()
    graph = graph_of(thing("a"), thing("b", "a"))
    deploy(graph, store, aws)
    fakes.CLOUD.calls.clear()

    plan = make_plan(graph, store.load(), aws)
    tally, _ = deploy(graph, store, aws)

    assert {c.action for c in plan.changes} == {Action.NO_CHANGE}
    assert fakes.CLOUD.writes() == []
    reads = [c for c in fakes.CLOUD.calls if c[0] == "read"]
    assert len(reads) == 2 * 2  # one per resource for the plan, one for the deploy's plan
    assert tally.counts()["unchanged"] == 2  # type: ignore[attr-defined]


def test_a_resource_made_before_a_crash_is_adopted_not_made_again(aws: AwsContext) -> None:
    # Given AWS has "a" but the state never recorded it (the worker died after the call).
    fakes.CLOUD.resources["a"] = {"name": "a", "value": 1, "deps": []}
    store = MemoryStateStore()

    plan = make_plan(graph_of(thing("a")), store.load(), aws)
    deploy(graph_of(thing("a")), store, aws)

    assert plan.changes[0].adopt and plan.changes[0].action is Action.NO_CHANGE
    assert fakes.CLOUD.writes() == []
    assert store.load()["a"].arn == "arn:fake:a"


def test_a_changed_property_is_planned_as_an_update_of_just_that_property(aws: AwsContext) -> None:
    store = MemoryStateStore()
    deploy(graph_of(thing("a")), store, aws)

    plan = make_plan(graph_of(thing("a", value=2)), store.load(), aws)

    (change,) = plan.changes
    assert change.action is Action.UPDATE
    assert [(c.name, c.old, c.new) for c in change.changes] == [("value", 1, 2)]


def test_removed_resources_are_deleted_dependents_first(aws: AwsContext) -> None:
    store = MemoryStateStore()
    deploy(graph_of(thing("a"), thing("b", "a"), thing("keep")), store, aws)
    fakes.CLOUD.calls.clear()

    plan = make_plan(graph_of(thing("keep")), store.load(), aws)
    deploy(graph_of(thing("keep")), store, aws)

    assert {c.logical_id: c.action for c in plan.changes}["a"] is Action.DELETE
    assert fakes.CLOUD.writes() == [("delete", "b"), ("delete", "a")]
    assert set(store.load()) == {"keep"}


def test_destroy_runs_in_reverse_dependency_order(aws: AwsContext) -> None:
    store = MemoryStateStore()
    deploy(graph_of(thing("a"), thing("b", "a"), thing("c", "b")), store, aws)
    fakes.CLOUD.calls.clear()

    tally = Orchestrator(aws, store, ListSink()).destroy(store.load())

    assert fakes.CLOUD.writes() == [("delete", "c"), ("delete", "b"), ("delete", "a")]
    assert store.load() == {} and fakes.CLOUD.resources == {}
    assert tally.status == "SUCCEEDED"


def test_cancel_lets_in_flight_work_finish_and_skips_the_rest(aws: AwsContext) -> None:
    store = MemoryStateStore()
    graph = graph_of(thing("a"), thing("b", "a"), thing("c", "b"))
    calls = iter([False, True])  # allow the first start, then the user cancels

    tally, sink = deploy(graph, store, aws, cancelled=lambda: next(calls, True))

    assert statuses(sink) == {"a": "succeeded", "b": "skipped", "c": "skipped"}
    assert tally.status == "CANCELLED"  # type: ignore[attr-defined]
    assert set(store.load()) == {"a"}


def test_the_longest_chain_starts_first_when_slots_are_short(aws: AwsContext) -> None:
    graph = graph_of(thing("x"), thing("long1"), thing("long2", "long1"), thing("long3", "long2"))

    deploy(graph, MemoryStateStore(), aws, max_workers=1)

    assert next(n for _, n in fakes.CLOUD.writes()) == "long1"


# --- crash safety: intents, fencing; progress notes; adaptive concurrency ----------------------
class CrashingStore(MemoryStateStore):
    """Dies (as far as the engine can tell) right after AWS made `victim`, before recording it."""

    def __init__(self, victim: str) -> None:
        super().__init__()
        self.victim = victim

    def save(self, record: RecordedResource) -> None:
        if record.logical_id == self.victim:
            raise RuntimeError("worker killed")
        super().save(record)


def test_a_create_whose_save_was_lost_is_adopted_by_the_next_deploy_not_made_again(
    aws: AwsContext,
) -> None:
    graph = graph_of(thing("a"), thing("b", "a"), thing("c", "b"))
    crashed = CrashingStore("b")
    deploy(graph, crashed, aws)
    assert set(crashed.intents()) == {"b"}  # what was in flight is on record
    store = MemoryStateStore(crashed.load())
    store.save_intent(crashed.intents()["b"])
    fakes.CLOUD.calls.clear()

    tally, sink = deploy(graph, store, aws)

    assert [n for _, n in fakes.CLOUD.writes()] == ["c"]  # b was found, not made twice
    assert set(store.load()) == {"a", "b", "c"} and store.intents() == {}
    assert any("found in AWS" in e.message for e in sink.events if e.resource == "b")
    assert tally.status == "SUCCEEDED"  # type: ignore[attr-defined]


def test_destroy_deletes_what_an_interrupted_create_left_behind(aws: AwsContext) -> None:
    graph = graph_of(thing("a"), thing("b", "a"))
    crashed = CrashingStore("b")
    deploy(graph, crashed, aws)
    assert "b" in fakes.CLOUD.resources and "b" not in crashed.load()

    tally = Orchestrator(aws, crashed, ListSink()).destroy(
        crashed.load(), intents=crashed.intents()
    )

    assert fakes.CLOUD.resources == {}  # no orphan
    assert [n for c, n in fakes.CLOUD.writes() if c == "delete"] == ["b", "a"]
    assert crashed.intents() == {} and tally.status == "SUCCEEDED"


def test_a_create_left_in_flight_for_a_removed_resource_is_deleted_on_the_next_deploy(
    aws: AwsContext,
) -> None:
    crashed = CrashingStore("b")
    deploy(graph_of(thing("a"), thing("b")), crashed, aws)

    deploy(graph_of(thing("a")), crashed, aws)

    assert set(fakes.CLOUD.resources) == {"a"} and crashed.intents() == {}


class SupersededStore(MemoryStateStore):
    def save(self, record: RecordedResource) -> None:
        raise RunSuperseded("deployment #1 is failed, no longer running")


def test_a_run_that_lost_its_fence_stops_without_starting_anything_else(aws: AwsContext) -> None:
    graph = graph_of(thing("a"), thing("b", "a"), thing("c", "b"))

    with pytest.raises(RunSuperseded):
        deploy(graph, SupersededStore(), aws)

    assert [n for _, n in fakes.CLOUD.writes()] == ["a"]


class PatientThing(fakes.FakeThing):
    resource_type = "fake:patient"

    def destroy(self, recorded: RecordedResource) -> None:
        self.aws.note("waiting for Lambda ENIs to release subnet subnet-1 (5 s so far)")
        super().destroy(recorded)


def test_a_provisioner_that_waits_says_so_as_an_info_event_of_its_resource(
    aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(provisioners.REGISTRY, "fake:patient", PatientThing)
    fakes.CLOUD.resources["net"] = {"name": "net"}
    record = RecordedResource("net", "fake:patient", "net")
    sink = ListSink()

    Orchestrator(aws, MemoryStateStore({"net": record}), sink).destroy({"net": record})

    kinds = [(e.resource, e.status.value) for e in sink.events]
    assert kinds == [("net", "started"), ("net", "info"), ("net", "succeeded")]
    assert "release subnet subnet-1" in sink.events[1].message


def test_throttling_halves_the_limit_and_calm_raises_it_one_step_at_a_time() -> None:
    now = [0.0]
    limit = AdaptiveLimit(16, floor=2, cooldown_s=2.0, clock=lambda: now[0])

    first = limit.throttled("CreateRole")
    burst = limit.throttled("CreateRole")  # the same overload: no second cut
    now[0] = 5.0
    second = limit.throttled("CreateRole")
    raised = [limit.finished() for _ in range(4)]

    assert first is not None and (first.old, first.new) == (16, 8)
    assert burst is None
    assert second is not None and (second.old, second.new) == (8, 4)
    assert [c.new if c else None for c in raised] == [None, None, None, 5]
    assert "throttling (CreateRole)" in first.message()


def test_the_orchestrator_starts_no_more_than_the_lowered_limit(aws: AwsContext) -> None:
    fakes.CLOUD.delay_s = 0.05
    graph = graph_of(*(thing(f"r{i}") for i in range(12)))
    sink = ListSink()
    orchestrator = Orchestrator(aws, MemoryStateStore(), sink, max_workers=8)
    orchestrator.limit.throttled("CreateThing")  # as botocore reports a throttled reply

    orchestrator.apply(make_plan(graph, {}, aws), graph.specs)

    assert fakes.CLOUD.max_active <= 5  # 4 after the cut, maybe one more as it recovers
