"""The orchestrator: dependency order, parallelism, failure isolation, cancel, resume."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from provisioning import provisioners
from provisioning.aws import AwsContext
from provisioning.events import EventStatus, ListSink
from provisioning.graph import ResourceGraph
from provisioning.orchestrator import Orchestrator
from provisioning.planner import make_plan
from provisioning.provisioners.base import Action
from provisioning.spec import Ref, ResourceSpec
from provisioning.state import MemoryStateStore
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
