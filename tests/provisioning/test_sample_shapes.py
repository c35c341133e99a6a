"""The four sample shapes (provisioning/model/samples.py), deployed on moto.

A shape passes when the deployed resources give its code exactly what it needs (the variable
names it reads, the message shape it parses, its key types and extra permissions), and
destroy leaves nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from provisioning import engine
from provisioning.aws import AwsContext
from provisioning.events import ListSink
from provisioning.model import samples
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.model.naming import physical_name
from provisioning.state import MemoryStateStore


def _deployed(blueprint: Blueprint, aws: AwsContext) -> MemoryStateStore:
    assert engine.validate(blueprint) == []
    store = MemoryStateStore()
    result = engine.deploy(blueprint, store, ListSink(), aws)
    assert result.status == "SUCCEEDED", result.error
    return store


def _destroyed_to_nothing(store: MemoryStateStore, aws: AwsContext) -> None:
    result = engine.destroy(store, ListSink(), aws)
    assert result.status == "SUCCEEDED", result.error
    assert store.load() == {}
    assert aws.client("lambda").list_functions()["Functions"] == []


def _function(aws: AwsContext, agent: str) -> dict[str, Any]:
    return aws.client("lambda").get_function_configuration(
        FunctionName=physical_name("acme", "dev", agent, kind="lambda")
    )


def _environment(aws: AwsContext, agent: str) -> dict[str, str]:
    return _function(aws, agent)["Environment"]["Variables"]


def _statements(aws: AwsContext, agent: str) -> Iterator[dict[str, Any]]:
    iam = aws.client("iam")
    role = _function(aws, agent)["Role"].rsplit("/", 1)[-1]
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):
            document = json.loads(document)
        yield from document["Statement"]


def _allowed(aws: AwsContext, agent: str, action: str) -> list[str]:
    """The resources the agent's role allows `action` on."""
    found: list[str] = []
    for stmt in _statements(aws, agent):
        actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        if action in actions:
            resources = stmt["Resource"]
            found += resources if isinstance(resources, list) else [resources]
    return found


def test_a_weather_agent_behind_a_get_route(aws: AwsContext) -> None:
    """The documentation's weather forecaster: http_request to a public weather API, asked
    with GET /weather?city=... from a browser app."""
    blueprint = samples.weather(project="acme")
    store = _deployed(blueprint, aws)

    apis = aws.client("apigatewayv2")
    api = apis.get_apis()["Items"][0]
    assert [r["RouteKey"] for r in apis.get_routes(ApiId=api["ApiId"])["Items"]] == ["GET /weather"]
    assert _environment(aws, "weather")["PUBLIC_URL"].startswith("https://")
    _destroyed_to_nothing(store, aws)


def test_a_restaurant_assistant_with_its_own_names_and_an_extra_permission(
    aws: AwsContext,
) -> None:
    """The restaurant booking sample: bookings in a table and menus in a bucket, both read
    through names its code chooses, a knowledge base id from an SSM parameter, and resumed
    sessions on the SDK's default model."""
    blueprint = samples.restaurant(project="acme")
    store = _deployed(blueprint, aws)

    environment = _environment(aws, "restaurant")
    assert environment["TABLE_NAME"] == physical_name("acme", "dev", "bookings", kind="dynamodb")
    assert "MENU_BUCKET" in environment and "TABLE_BOOKINGS" not in environment
    assert _allowed(aws, "restaurant", "ssm:GetParameter") == [
        "arn:aws:ssm:us-east-1:123456789012:parameter/restaurant-assistant/*"
    ]
    models = _allowed(aws, "restaurant", "bedrock:InvokeModel")
    assert any("claude-sonnet-4-20250514" in arn for arn in models)
    _destroyed_to_nothing(store, aws)


def test_an_sns_driven_whatsapp_assistant_with_two_tables(aws: AwsContext) -> None:
    """The WhatsApp assistant sample: messages arrive on an SNS topic (the code parses the
    SNS envelope), users are keyed by phone number and messages by a numeric timestamp."""
    blueprint = samples.whatsapp(project="acme")
    store = _deployed(blueprint, aws)

    environment = _environment(aws, "assistant")
    assert {"INBOUND_TOPIC", "USERS_TABLE", "MESSAGES_TABLE"} <= set(environment)
    sns = aws.client("sns")
    subscriptions = sns.list_subscriptions()["Subscriptions"]
    to_queue = next(s for s in subscriptions if s["Protocol"] == "sqs")
    attributes = sns.get_subscription_attributes(SubscriptionArn=to_queue["SubscriptionArn"])
    assert attributes["Attributes"].get("RawMessageDelivery", "false") == "false"

    dynamodb = aws.client("dynamodb")
    table = environment["MESSAGES_TABLE"]
    types = {
        a["AttributeName"]: a["AttributeType"]
        for a in dynamodb.describe_table(TableName=table)["Table"]["AttributeDefinitions"]
    }
    assert types == {"phone": "S", "ts": "N"}
    dynamodb.put_item(TableName=table, Item={"phone": {"S": "+1555"}, "ts": {"N": "1700000000"}})
    found = dynamodb.query(
        TableName=table,
        KeyConditionExpression="phone = :p AND ts > :t",
        ExpressionAttributeValues={":p": {"S": "+1555"}, ":t": {"N": "1600000000"}},
    )
    assert found["Count"] == 1
    _destroyed_to_nothing(store, aws)


def test_two_sqs_driven_agents_that_hand_work_to_each_other(aws: AwsContext) -> None:
    """A planner fed by a queue sends its plans to a second queue that feeds a writer; each
    reads the queue URLs under the names its code uses."""
    blueprint = samples.handoff(project="acme")
    store = _deployed(blueprint, aws)

    planner, writer = _environment(aws, "planner"), _environment(aws, "writer")
    assert planner["TASKS_QUEUE_URL"].endswith(physical_name("acme", "dev", "tasks", kind="sqs"))
    assert planner["DRAFTS_QUEUE_URL"] == writer["INPUT_QUEUE_URL"]
    drafts_arn = aws.client("sqs").get_queue_attributes(
        QueueUrl=writer["INPUT_QUEUE_URL"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert _allowed(aws, "planner", "sqs:SendMessage") == [drafts_arn]
    assert drafts_arn in _allowed(aws, "writer", "sqs:ReceiveMessage")
    assert drafts_arn not in _allowed(aws, "planner", "sqs:ReceiveMessage")
    _destroyed_to_nothing(store, aws)


def test_two_links_that_set_the_same_variable_stop_the_plan(aws: AwsContext) -> None:
    blueprint = Blueprint(
        project="acme",
        stage="dev",
        agents=(Agent(name="support"),),
        components=(Component("table", "orders", {}), Component("table", "archive", {})),
        links=(
            Link("agent:support", "table:orders", "read", {"env_name": "ORDERS"}),
            Link("agent:support", "table:archive", "read", {"env_name": "ORDERS"}),
        ),
    )
    problems = engine.validate(blueprint)
    assert any("ORDERS" in str(problem) for problem in problems), problems
