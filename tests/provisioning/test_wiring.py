"""What a link's settings change in AWS: the variables an agent reads, how a subscription
delivers, which route an HTTP API answers."""

from __future__ import annotations

import json

from provisioning import engine
from provisioning.aws import AwsContext
from provisioning.events import ListSink
from provisioning.graph import builder as G
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.model.naming import physical_name
from provisioning.state import MemoryStateStore

COMPONENTS = (
    Component("table", "orders"),
    Component("table", "archive"),
    Component("queue", "jobs", {"visibility_timeout_s": 360, "dead_letter": False}),
    Component("topic", "news"),
    Component("http_api", "public"),
)


def project(*links: Link, **agent: object) -> Blueprint:
    return Blueprint(
        "acme",
        "dev",
        agents=(Agent("support", timeout_s=60, **agent),),  # type: ignore[arg-type]
        components=COMPONENTS,
        links=links,
    )


def deployed(blueprint: Blueprint, aws: AwsContext) -> MemoryStateStore:
    store = MemoryStateStore()
    result = engine.deploy(blueprint, store, ListSink(), aws)
    assert result.status == "SUCCEEDED", result.error
    return store


def function_environment(aws: AwsContext) -> dict[str, str]:
    name = physical_name("acme", "dev", "support", kind="lambda")
    config = aws.client("lambda").get_function_configuration(FunctionName=name)
    return dict(config["Environment"]["Variables"])


def test_links_set_the_variables_the_agents_code_reads_under_their_own_names(
    aws: AwsContext,
) -> None:
    # Given links naming their variables, and trigger links naming none
    blueprint = project(
        Link("agent:support", "table:orders", settings={"env_name": "ORDERS"}),
        Link("queue:jobs", "agent:support"),
        Link("topic:news", "agent:support", settings={"env_name": "NEWS_TOPIC"}),
        Link("http_api:public", "agent:support"),
    )

    # When it is deployed
    store = deployed(blueprint, aws)

    # Then the function reads each under the name given, or the default name
    records = store.load()
    environment = function_environment(aws)
    assert {
        "ORDERS": records["table/orders"].outputs["name"],
        "QUEUE_JOBS_URL": records["queue/jobs"].outputs["url"],
        "NEWS_TOPIC": records["topic/news"].outputs["arn"],
        "API_PUBLIC_URL": records["http_api/public/api"].outputs["endpoint"],
    }.items() <= environment.items()
    assert "TABLE_ORDERS" not in environment
    preview = engine.preview(blueprint)
    assert preview.link("agent:support->table:orders")["variables"] == ["ORDERS"]
    assert preview.link("queue:jobs->agent:support")["variables"] == ["QUEUE_JOBS_URL"]


def test_two_links_giving_one_variable_name_are_a_problem_naming_both() -> None:
    blueprint = project(
        Link("agent:support", "table:orders", settings={"env_name": "ORDERS"}),
        Link("agent:support", "table:archive", settings={"env_name": "ORDERS"}),
    )

    assert ("agent:support", "", "variable ORDERS is set by the links to table:orders and "
            "table:archive") in engine.validate(blueprint)  # fmt: skip


def test_a_link_variable_that_the_agents_own_environment_also_sets_is_a_problem() -> None:
    blueprint = project(
        Link("agent:support", "table:orders", settings={"env_name": "ORDERS"}),
        environment={"ORDERS": "orders-by-hand"},
    )

    problems = [p for p in engine.validate(blueprint) if p[0] == "agent:support"]

    assert problems == [
        ("agent:support", "", "variable ORDERS is set by the link to table:orders and "
         "its environment"),
    ]  # fmt: skip


def test_sending_to_the_queue_that_triggers_the_agent_is_one_variable_not_a_conflict() -> None:
    blueprint = project(Link("agent:support", "queue:jobs"), Link("queue:jobs", "agent:support"))

    assert engine.validate(blueprint) == []


def test_a_queue_subscription_can_deliver_the_sns_envelope_with_its_own_filter(
    aws: AwsContext,
) -> None:
    blueprint = Blueprint(
        "acme",
        "dev",
        components=(
            Component("topic", "news", {"filter_policy": {"kind": ["all"]}}),
            Component("queue", "jobs", {"dead_letter": False}),
        ),
        links=(
            Link(
                "topic:news",
                "queue:jobs",
                settings={"raw_message_delivery": False, "filter_policy": {"severity": "high"}},
            ),
        ),
    )

    store = deployed(blueprint, aws)

    arn = store.load()["topic/news/subscription/queue/jobs"].physical_id
    attributes = aws.client("sns").get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["RawMessageDelivery"] == "false"
    assert json.loads(attributes["FilterPolicy"]) == {"severity": ["high"]}


def test_a_subscription_without_a_filter_of_its_own_takes_the_topics() -> None:
    blueprint = Blueprint(
        "acme",
        "dev",
        components=(
            Component("topic", "news", {"filter_policy": {"kind": "order"}}),
            Component("queue", "jobs"),
        ),
        links=(Link("topic:news", "queue:jobs"),),
    )

    subscription = G.build(blueprint).specs["topic/news/subscription/queue/jobs"].properties

    assert subscription["filter_policy"] == {"kind": ["order"]}
    assert subscription["raw_message_delivery"] is True


def test_a_route_answers_the_method_and_path_the_link_gives(aws: AwsContext) -> None:
    blueprint = project(
        Link("http_api:public", "agent:support", settings={"method": "GET", "path": "/orders/{id}"})
    )

    store = deployed(blueprint, aws)

    api = store.load()["http_api/public/api"].outputs
    routes = aws.client("apigatewayv2").get_routes(ApiId=api["api_id"])["Items"]
    assert [r["RouteKey"] for r in routes] == ["GET /orders/{id}"]
    name = physical_name("acme", "dev", "support", kind="lambda")
    policy = json.loads(aws.client("lambda").get_policy(FunctionName=name)["Policy"])
    (statement,) = policy["Statement"]
    source = statement["Condition"]["ArnLike"]["AWS:SourceArn"]
    assert source == f"{api['execution_arn']}/*/GET/orders/*"


def test_two_links_answering_the_same_route_of_one_api_are_a_problem() -> None:
    blueprint = Blueprint(
        "acme",
        "dev",
        agents=(Agent("support", timeout_s=60), Agent("triage", timeout_s=60)),
        components=(Component("http_api", "public"),),
        links=(
            Link("http_api:public", "agent:support", settings={"path": "/chat"}),
            Link("http_api:public", "agent:triage", settings={"path": "/chat"}),
        ),
    )

    problems = engine.validate(blueprint)

    assert problems == [
        ("http_api:public->agent:triage", "path", "http_api:public already sends POST /chat to "
         "agent:support"),
    ]  # fmt: skip
