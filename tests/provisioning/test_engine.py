"""The whole engine against moto: deploy, re-plan as NO_CHANGE, change, destroy to nothing."""

from __future__ import annotations

from dataclasses import replace

from provisioning import engine
from provisioning.aws import TAG_PROJECT, AwsContext
from provisioning.events import EventStatus, ListSink
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.model.naming import physical_name
from provisioning.state import MemoryStateStore

BLUEPRINT = Blueprint(
    project="acme",
    stage="dev",
    agents=(Agent("support", timeout_s=60), Agent("triage", timeout_s=30)),
    components=(
        Component("http_api", "public"),
        Component("bucket", "docs"),
        Component("table", "notes"),
        Component("queue", "jobs", {"visibility_timeout_s": 360, "dead_letter": True}),
        Component("topic", "news"),
    ),
    links=(
        Link("http_api:public", "agent:support"),
        Link("http_api:public", "agent:triage"),
        Link("agent:support", "bucket:docs", "read"),
        Link("agent:support", "table:notes"),
        Link("queue:jobs", "agent:triage"),
        Link("agent:triage", "topic:news"),
        Link("topic:news", "queue:jobs"),
    ),
)


def tagged(aws: AwsContext) -> list[str]:
    tagging = aws.client("resourcegroupstaggingapi")
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": TAG_PROJECT, "Values": ["acme"]}]
    )
    return [r["ResourceARN"] for page in pages for r in page["ResourceTagMappingList"]]


def leftovers(aws: AwsContext) -> dict[str, list[str]]:
    """What the tagging API misses, listed per service."""
    return {
        "roles": [
            r["RoleName"]
            for r in aws.client("iam").list_roles()["Roles"]
            if r["RoleName"].startswith("acme-dev")
        ],
        "apis": [a["Name"] for a in aws.client("apigatewayv2").get_apis()["Items"]],
        "functions": [
            f["FunctionName"] for f in aws.client("lambda").list_functions()["Functions"]
        ],
        "log_groups": [
            g["logGroupName"] for g in aws.client("logs").describe_log_groups()["logGroups"]
        ],
        "mappings": [
            m["UUID"]
            for m in aws.client("lambda").list_event_source_mappings()["EventSourceMappings"]
        ],
    }


def test_deploy_replan_and_destroy_leave_aws_as_the_project_says(aws: AwsContext) -> None:
    store, sink = MemoryStateStore(), ListSink()

    result = engine.deploy(BLUEPRINT, store, sink, aws)

    assert result.status == "SUCCEEDED", result.error
    started = [e for e in sink.events if e.status is EventStatus.STARTED]
    succeeded = [e for e in sink.events if e.status is EventStatus.SUCCEEDED]
    assert len(started) == len(succeeded) == len(store.load()) == result.counts["total"]
    api = store.load()["http_api/public/api"].outputs
    assert api["endpoint"].startswith("http")
    function = aws.client("lambda").get_function(
        FunctionName=physical_name("acme", "dev", "support", kind="lambda")
    )
    assert (
        function["Configuration"]["Environment"]["Variables"]["BUCKET_DOCS"]
        == (store.load()["bucket/docs"].outputs["name"])
    )

    again = engine.plan(BLUEPRINT, store, aws)
    not_unchanged = [
        (c.logical_id, c.action, c.changes) for c in again.changes if c.action != "NO_CHANGE"
    ]
    assert not_unchanged == []

    bigger = replace(
        BLUEPRINT, agents=(replace(BLUEPRINT.agents[0], memory_mb=2048), BLUEPRINT.agents[1])
    )
    changed = engine.plan(bigger, store, aws)
    updates = {
        c.logical_id: [p.name for p in c.changes] for c in changed.changes if c.action == "UPDATE"
    }
    assert updates == {"agent/support/function": ["memory_mb"]}
    assert engine.deploy(bigger, store, ListSink(), aws).status == "SUCCEEDED"
    config = aws.client("lambda").get_function_configuration(
        FunctionName=physical_name("acme", "dev", "support", kind="lambda")
    )
    assert config["MemorySize"] == 2048

    destroyed = engine.destroy(store, ListSink(), aws)

    assert destroyed.status == "SUCCEEDED", destroyed.error
    assert store.load() == {}
    assert tagged(aws) == []
    assert all(not found for found in leftovers(aws).values()), leftovers(aws)


def test_a_blueprint_aws_would_refuse_is_stopped_before_any_call(aws: AwsContext) -> None:
    bad = replace(
        BLUEPRINT,
        components=tuple(
            replace(c, settings={"visibility_timeout_s": 5}) if c.name == "jobs" else c
            for c in BLUEPRINT.components
        ),
    )

    try:
        engine.deploy(bad, MemoryStateStore(), ListSink(), aws)
    except engine.BlueprintError as exc:
        assert "queue:jobs.visibility_timeout_s" in str(exc)
    else:
        raise AssertionError("a trigger queue shorter than the function timeout was deployed")
    assert aws.client("lambda").list_functions()["Functions"] == []
