"""The graph: what each agent, component and link turns into."""

from __future__ import annotations

from typing import Any

import pytest

from provisioning import engine
from provisioning.graph import builder as G
from provisioning.graph.resource_graph import ResourceGraph, explain, topological_levels
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.model.naming import physical_name
from provisioning.model.spec import Ref, iter_refs, to_jsonable


def blueprint(*links: Link, **queue_settings: Any) -> Blueprint:
    return Blueprint(
        project="acme",
        stage="dev",
        agents=(Agent("support", timeout_s=60),),
        components=(
            Component("http_api", "public"),
            Component("bucket", "docs"),
            Component("table", "notes"),
            Component("queue", "jobs", {"visibility_timeout_s": 360, **queue_settings}),
            Component("topic", "news"),
        ),
        links=links,
    )


def role_statements(graph: ResourceGraph) -> list[dict[str, Any]]:
    doc = graph.specs["agent/support/role"].properties["inline_policies"]["agent"]
    return list(to_jsonable(doc["Statement"]))


def test_an_agent_becomes_a_role_a_log_group_and_a_function_that_uses_the_role() -> None:
    graph = G.build(blueprint())

    function = graph.specs["agent/support/function"]
    name = physical_name("acme", "dev", "support", kind="lambda")
    assert name.startswith("acme-dev-support-")
    assert function.properties["name"] == name
    assert function.properties["role_arn"] == Ref("agent/support/role", "arn")
    assert graph.specs["agent/support/log-group"].properties["name"] == f"/aws/lambda/{name}"
    assert graph.order().index("agent/support/role") < graph.order().index("agent/support/function")


def test_bedrock_access_is_scoped_to_the_models_arns_never_a_wildcard() -> None:
    statements = role_statements(G.build(blueprint()))

    bedrock = next(s for s in statements if "bedrock:InvokeModel" in s["Action"])
    assert bedrock["Resource"] == [
        "arn:${@aws.partition}:bedrock:*::foundation-model/anthropic.claude-sonnet-4-6",
        "arn:${@aws.partition}:bedrock:${@aws.region}:${@aws.account_id}:"
        "inference-profile/global.anthropic.claude-sonnet-4-6",
    ]
    assert all(r != "*" for s in statements for r in s["Resource"])
    assert all("*" not in a for s in statements for a in s["Action"])


def test_a_read_link_to_a_bucket_grants_reads_on_that_bucket_and_names_it() -> None:
    link = Link("agent:support", "bucket:docs", "read")
    graph = G.build(blueprint(link))

    explained = explain(graph, link.key)
    actions = sorted(a for s in explained["statements"] for a in s["Action"])
    assert actions == ["s3:GetObject", "s3:ListBucket"]
    assert explained["environment"] == {"BUCKET_DOCS": "${bucket/docs.name}"}
    env = graph.specs["agent/support/function"].properties["environment"]
    assert env["BUCKET_DOCS"] == Ref("bucket/docs", "name")


def test_an_http_api_link_adds_a_route_an_integration_and_the_invoke_permission() -> None:
    link = Link("http_api:public", "agent:support")
    graph = G.build(blueprint(link))

    types = sorted(r["type"] for r in explain(graph, link.key)["resources"])
    assert types == ["apigw:integration", "apigw:route", "lambda:permission"]
    route = graph.specs["http_api/public/route/support"]
    assert route.properties["route_key"] == "POST /support"
    permission = graph.specs["http_api/public/permission/support"].properties
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert str(permission["source_arn"]) == "${http_api/public/api.execution_arn}/*/POST/support"


def test_a_trigger_queue_gives_a_mapping_and_consumer_permissions_on_that_queue() -> None:
    graph = G.build(blueprint(Link("queue:jobs", "agent:support")))

    mapping = graph.specs["queue/jobs/trigger/support"]
    assert mapping.properties["event_source_arn"] == Ref("queue/jobs", "arn")
    assert "agent/support/role" in mapping.dependencies()
    consumer = [s for s in role_statements(graph) if "sqs:ReceiveMessage" in s["Action"]]
    assert consumer and consumer[0]["Resource"] == ["${queue/jobs.arn}"]


def test_a_topic_to_queue_link_adds_a_subscription_and_a_queue_policy_for_that_topic() -> None:
    graph = G.build(blueprint(Link("topic:news", "queue:jobs")))

    policy = to_jsonable(graph.specs["queue/jobs/policy"].properties["policy"])
    condition = policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert condition == ["${topic/news.arn}"]
    subscription = graph.specs["topic/news/subscription/queue/jobs"]
    assert subscription.properties["protocol"] == "sqs"
    assert "queue/jobs/policy" in subscription.dependencies()


def test_a_trigger_queue_that_hides_messages_too_briefly_is_reported_on_its_field() -> None:
    graph = G.build(blueprint(Link("queue:jobs", "agent:support"), visibility_timeout_s=30))

    assert [(n, f) for n, f, _ in graph.problems] == [("queue:jobs", "visibility_timeout_s")]
    assert "timeout of agent support (60 s)" in graph.problems[0][2]


def test_impossible_and_dangling_links_are_reported_not_built() -> None:
    graph = G.build(
        blueprint(Link("bucket:docs", "table:notes"), Link("agent:support", "bucket:missing"))
    )

    assert sorted(f for _, f, _ in graph.problems) == ["kind", "target"]
    assert "a bucket cannot link to a table" in " ".join(m for _, _, m in graph.problems)


def test_every_ref_points_at_a_resource_in_the_graph() -> None:
    links = (
        Link("http_api:public", "agent:support"),
        Link("agent:support", "bucket:docs"),
        Link("agent:support", "table:notes"),
        Link("queue:jobs", "agent:support"),
        Link("topic:news", "queue:jobs"),
        Link("topic:news", "agent:support"),
        Link("agent:support", "topic:news"),
    )
    graph = G.build(blueprint(*links))

    ids = set(graph.specs) | {G.AWS}
    for spec in graph.specs.values():
        assert {r.logical_id for r in iter_refs(spec.properties)} <= ids, spec.logical_id
    assert len(graph.order()) == len(graph.specs)


def test_names_that_would_pass_an_aws_limit_are_shortened_with_a_stable_hash() -> None:
    long = "a" * 32
    bp = Blueprint(project="p" * 32, stage="production", agents=(Agent(long),))

    first = G.build(bp).specs[f"agent/{long}/role"].properties["name"]
    again = G.build(bp).specs[f"agent/{long}/role"].properties["name"]

    assert len(first) <= 64 and first == again


def crowded(notes: int, *links: Link) -> Blueprint:
    """An agent whose own variables fit Lambda's 4 KB, with a secret and the links given."""
    agent = Agent(
        "support",
        timeout_s=60,
        environment={"NOTES": "x" * notes},
        secrets={"OPENAI_API_KEY": "ref-1"},
    )
    components = (Component("queue", "jobs", {"visibility_timeout_s": 360}),)
    return Blueprint("acme", "dev", agents=(agent,), components=components, links=links)


def test_an_environment_over_lambdas_4_kb_with_what_the_deploy_adds_is_refused_at_plan() -> None:
    blueprint = crowded(3950, Link("agent:support", "queue:jobs"))
    assert len('{"NOTES":""}') + 3950 < 4096  # the user's own variables alone would fit

    problems = engine.validate(blueprint)

    found = [(node, field, message) for node, field, message in problems if field == "environment"]
    assert len(found) == 1
    node, _field, message = found[0]
    assert node == "agent:support"
    assert "the environment of agent support takes" in message and "allows 4096" in message
    size = int(message.split(" takes ")[1].split()[0])
    assert size > 4096


def test_an_environment_within_the_limit_with_its_link_and_secret_variables_plans() -> None:
    problems = engine.validate(crowded(3700, Link("agent:support", "queue:jobs")))

    assert [p for p in problems if p[1] == "environment"] == []


def test_levels_group_what_can_run_together_and_a_cycle_is_named() -> None:

    assert topological_levels({"fn": {"role", "logs"}, "role": set(), "logs": set()}) == [
        ["logs", "role"],
        ["fn"],
    ]
    with pytest.raises(ValueError, match=r"dependency cycle: [ab] -> [ab]"):
        topological_levels({"a": {"b"}, "b": {"a"}})
