"""Refresh on moto: an out-of-band change shows as drift per property; orphans are found."""

from __future__ import annotations

from provisioning import engine
from provisioning.analysis import drift
from provisioning.aws import AwsContext
from provisioning.events import EventStatus, ListSink
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.model.naming import physical_name
from provisioning.state import MemoryStateStore

BLUEPRINT = Blueprint(
    project="acme",
    stage="dev",
    agents=(Agent("support", memory_mb=1024, timeout_s=60),),
    components=(Component("queue", "jobs", {"visibility_timeout_s": 360}),),
    links=(Link("queue:jobs", "agent:support"),),
)


def deployed(aws: AwsContext) -> MemoryStateStore:
    store = MemoryStateStore()
    result = engine.deploy(BLUEPRINT, store, ListSink(), aws)
    assert result.status == "SUCCEEDED", result.error
    return store


def test_a_fresh_deploy_has_no_drift(aws: AwsContext) -> None:
    store = deployed(aws)

    result = engine.refresh(store, ListSink(), aws)

    assert result.status == "SUCCEEDED"
    assert result.counts["in_sync"] == result.counts["total"] == len(store.load())
    assert result.plan["orphans"] == []


def test_an_out_of_band_memory_change_is_drift_of_that_property(aws: AwsContext) -> None:
    # given a deployed agent whose memory someone changed in the console
    store = deployed(aws)
    aws.client("lambda").update_function_configuration(
        FunctionName=physical_name("acme", "dev", "support", kind="lambda"), MemorySize=512
    )
    sink = ListSink()

    # when the stage is refreshed
    result = engine.refresh(store, sink, aws)

    # then the function is drifted on memory_mb only, and an event says so
    drifted = [d for d in result.plan["drift"] if d["status"] == drift.DRIFTED]
    assert [(d["logical_id"], d["properties"]) for d in drifted] == [
        ("agent/support/function", [{"name": "memory_mb", "recorded": 1024, "live": 512}])
    ]
    events = [e for e in sink.events if e.status is EventStatus.DRIFTED]
    assert [e.resource for e in events] == ["agent/support/function"]
    assert "memory_mb: 1024 → 512" in events[0].message
    assert store.load()["agent/support/function"].properties["memory_mb"] == 1024  # reads only


def test_a_resource_deleted_outside_is_missing(aws: AwsContext) -> None:
    store = deployed(aws)
    queue = store.load()["queue/jobs"]
    aws.client("lambda").delete_event_source_mapping(
        UUID=store.load()["queue/jobs/trigger/support"].physical_id
    )
    aws.client("sqs").delete_queue(QueueUrl=queue.physical_id)

    result = engine.refresh(store, ListSink(), aws)

    statuses = {d["logical_id"]: d["status"] for d in result.plan["drift"]}
    assert statuses["queue/jobs"] == drift.MISSING


def test_redeploying_reverts_the_drift(aws: AwsContext) -> None:
    store = deployed(aws)
    aws.client("lambda").update_function_configuration(
        FunctionName=physical_name("acme", "dev", "support", kind="lambda"), MemorySize=512
    )

    engine.deploy(BLUEPRINT, store, ListSink(), aws)
    result = engine.refresh(store, ListSink(), aws)

    assert result.counts.get("drifted", 0) == 0


def test_tagged_resources_the_state_does_not_know_are_orphans_and_can_be_deleted(
    aws: AwsContext,
) -> None:
    # given a deployed stage and a state that lost the queue and the role (a crash, a bug)
    store = deployed(aws)
    store.delete("queue/jobs")
    store.delete("agent/support/role")
    queue_url = aws.client("sqs").create_queue(
        QueueName="acme-dev-stray", tags={"strands-deploy:project": "acme"}
    )["QueueUrl"]

    orphans = drift.find_orphans(aws, store.load().values())

    names = sorted(o.name for o in orphans)
    assert physical_name("acme", "dev", "jobs", kind="sqs") in names
    assert "acme-dev-stray" in names
    assert physical_name("acme", "dev", "support", kind="iam_role") in names
    stray = next(o for o in orphans if o.name == "acme-dev-stray")
    drift.delete_orphan(aws, stray)
    assert queue_url not in aws.client("sqs").list_queues().get("QueueUrls", [])
