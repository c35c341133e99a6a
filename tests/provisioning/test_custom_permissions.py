"""An agent's additional models, its own IAM statements and its on-failure destination:
what the plan refuses, and what the deployed role and function then allow on moto."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from provisioning import engine
from provisioning.aws import AwsContext
from provisioning.events import ListSink
from provisioning.graph import builder
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.model.naming import physical_name
from provisioning.optimize import policy_merging as P
from provisioning.state import MemoryStateStore
from tests.provisioning.policy_eval import allows, function_role, role_documents

ACCOUNT, REGION = "123456789012", "us-east-1"
COMPONENTS = (
    Component("table", "orders"),
    Component("bucket", "docs"),
    Component("queue", "failed"),
    Component("topic", "alerts"),
    Component("queue", "ordered", {"fifo": True}),
)


def project(*agents: Agent, links: tuple[Link, ...] = ()) -> Blueprint:
    return Blueprint("acme", "dev", REGION, agents=agents, components=COMPONENTS, links=links)


def problems(blueprint: Blueprint, field: str) -> list[str]:
    return [m for _node, f, m in engine.validate(blueprint) if f == field]


def function(agent: str) -> str:
    return physical_name("acme", "dev", agent, kind="lambda")


def deploy(aws: AwsContext, blueprint: Blueprint, store: MemoryStateStore) -> None:
    result = engine.deploy(blueprint, store, ListSink(), aws)
    assert result.status == "SUCCEEDED", result.error


def policy_of(aws: AwsContext, agent: str) -> list[dict[str, Any]]:
    return role_documents(aws, function_role(aws, function(agent)))


# --- additional models --------------------------------------------------------------------
def test_the_role_may_invoke_each_additional_model_as_it_may_its_own(aws: AwsContext) -> None:
    # Given an agent with a cross-region profile and two more models
    agent = Agent(
        "support",
        model_id="us.amazon.nova-pro-v1:0",
        extra_models=("global.anthropic.claude-sonnet-4-6", "anthropic.claude-3-haiku-v1:0"),
    )

    deploy(aws, project(agent), MemoryStateStore())

    # Then the role may invoke each profile in the stage's region and the models behind it
    # in every region the profile routes to, and no model it was not given
    documents = policy_of(aws, "support")
    invoke = "bedrock:InvokeModel"
    for profile in ("us.amazon.nova-pro-v1:0", "global.anthropic.claude-sonnet-4-6"):
        arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{profile}"
        assert allows(documents, invoke, arn)
    for model in ("amazon.nova-pro-v1:0", "anthropic.claude-sonnet-4-6"):
        assert allows(documents, invoke, f"arn:aws:bedrock:eu-west-3::foundation-model/{model}")
    haiku = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-v1:0"
    assert allows(documents, "bedrock:InvokeModelWithResponseStream", haiku)
    other = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-opus-v1:0"
    assert not allows(documents, invoke, other)


def test_an_additional_model_id_that_is_no_bedrock_id_is_a_problem_on_its_field() -> None:
    agent = Agent("support", extra_models=("anthropic.claude-3-haiku-v1:0", "anthropic.*"))

    found = problems(project(agent), "extra_models")

    assert len(found) == 1 and "'anthropic.*' is not a Bedrock model id" in found[0]
    roles = builder.build(project(agent)).specs["agent/support/role"]
    assert "anthropic.*" not in str(roles.properties)


# --- custom statements --------------------------------------------------------------------
def test_statements_naming_project_nodes_reach_exactly_those_resources(aws: AwsContext) -> None:
    # Given statements that name a table, a bucket, a queue and the agent itself
    agent = Agent(
        "support",
        extra_statements=(
            {"actions": ["dynamodb:DescribeTimeToLive"], "resources": ["table:orders"]},
            {"actions": ["s3:GetObjectTagging"], "resources": ["bucket:docs"]},
            {"actions": ["sqs:GetQueueUrl"], "resources": ["queue:failed"]},
            {"actions": ["lambda:GetFunctionConfiguration"], "resources": ["agent:support"]},
        ),
    )
    store = MemoryStateStore()

    deploy(aws, project(agent), store)

    # Then each grant holds on exactly that node's ARN (a bucket's objects too), nowhere else
    records = store.load()
    documents = policy_of(aws, "support")
    table, queue = records["table/orders"].arn, records["queue/failed"].arn
    bucket = f"arn:aws:s3:::{records['bucket/docs'].physical_id}"
    assert allows(documents, "dynamodb:DescribeTimeToLive", table)
    assert not allows(documents, "dynamodb:DescribeTimeToLive", table.replace("orders", "other"))
    assert allows(documents, "s3:GetObjectTagging", bucket)
    assert allows(documents, "s3:GetObjectTagging", f"{bucket}/reports/q1.pdf")
    assert allows(documents, "sqs:GetQueueUrl", queue)
    own = aws.client("lambda").get_function_configuration(FunctionName=function("support"))
    assert allows(documents, "lambda:GetFunctionConfiguration", own["FunctionArn"])
    assert not allows(documents, "lambda:GetFunctionConfiguration", own["FunctionArn"] + "-x")


@pytest.mark.parametrize(
    ("given", "widens"),
    [
        ({"actions": ["*"], "resources": ["table:orders"]}, "action * allows every action"),
        ({"actions": ["s3:*"], "resources": ["bucket:docs"]}, "every action of s3"),
        ({"actions": ["s3:GetObject"], "resources": ["*"]}, "resource * is every resource"),
        (
            {"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::someone-elses/*"]},
            "arn:aws:s3:::someone-elses/* is not a node of this project",
        ),
    ],
)
def test_statements_reaching_beyond_the_project_need_a_confirmation(
    given: dict[str, Any], widens: str
) -> None:
    refused = project(Agent("support", extra_statements=(given,)))
    confirmed = project(Agent("support", extra_statements=(given,), allow_broad_permissions=True))

    (message,) = problems(refused, "extra_statements")

    assert message.startswith("statement 1: widens the agent's permissions beyond this project")
    assert widens in message and "allow_broad_permissions" in message
    assert engine.validate(confirmed) == []
    role = builder.build(confirmed).specs["agent/support/role"].properties
    assert given["actions"][0] in str(role["inline_policies"])


def test_a_statement_naming_a_node_the_project_lacks_is_a_problem() -> None:
    given = (
        {"actions": ["sqs:SendMessage"], "resources": ["queue:missing"]},
        {"actions": ["sqs:SendMessage"], "resources": ["orders"]},
        {"actions": ["not an action"], "resources": ["queue:failed"]},
    )

    found = problems(project(Agent("support", extra_statements=given)), "extra_statements")

    assert found[0] == "statement 1: queue:missing names no queue of this project"
    assert found[1].startswith("statement 2: 'orders' is neither an ARN nor a project node")
    assert found[2].startswith("statement 3: actions.0:")


def test_custom_statements_merge_with_link_grants_and_widen_none_of_them() -> None:
    # Given a link that grants reads on a table, and a statement with the same actions
    # on another resource
    link = Link("agent:support", "table:orders", "read")
    read = ["dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:GetItem"]
    read += ["dynamodb:Query", "dynamodb:Scan"]
    plain = project(Agent("support"), links=(link,))
    custom = project(
        Agent("support", extra_statements=({"actions": read, "resources": ["queue:failed"]},)),
        links=(link,),
    )

    def grants(blueprint: Blueprint) -> frozenset[P.Atom]:
        graph = engine._graph(blueprint).graph
        role = graph.specs["agent/support/role"]
        return P.grants(role.properties["inline_policies"].values())[0]

    # Then the role holds the link's grants plus exactly the statement's, nothing in between
    added = grants(custom) - grants(plain)
    assert added == {(action, "${queue/failed.arn}") for action in read}
    assert grants(plain) <= grants(custom)


def test_a_confirmed_any_resource_grant_survives_merging_with_a_narrower_one() -> None:
    # Given a link sending to a queue, and a confirmed statement of the same actions on *
    send = ["sqs:GetQueueAttributes", "sqs:SendMessage"]
    agent = Agent(
        "support",
        extra_statements=({"actions": send, "resources": ["*"]},),
        allow_broad_permissions=True,
    )
    blueprint = project(agent, links=(Link("agent:support", "queue:failed"),))

    role = engine._graph(blueprint).graph.specs["agent/support/role"]

    # Then the merged statement still allows them on any queue
    statements = role.properties["inline_policies"]["agent"]["Statement"]
    assert {"Effect": "Allow", "Action": send, "Resource": ["*"]} in statements


# --- on-failure destination ---------------------------------------------------------------
def test_failed_asynchronous_invocations_go_to_the_chosen_queue_then_topic_then_nowhere(
    aws: AwsContext,
) -> None:
    store = MemoryStateStore()
    lam = aws.client("lambda")

    # Given an agent whose failed invocations go to a queue
    deploy(aws, project(Agent("support", on_failure="queue:failed")), store)

    queue = store.load()["queue/failed"].arn
    config = lam.get_function_event_invoke_config(FunctionName=function("support"))
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == queue
    documents = policy_of(aws, "support")
    assert allows(documents, "sqs:SendMessage", queue)
    assert not allows(documents, "sqs:SendMessage", queue + "-other")

    # When it is pointed at a topic instead
    deploy(aws, project(Agent("support", on_failure="topic:alerts")), store)

    topic = store.load()["topic/alerts"].arn
    config = lam.get_function_event_invoke_config(FunctionName=function("support"))
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == topic
    documents = policy_of(aws, "support")
    assert allows(documents, "sns:Publish", topic)
    assert not allows(documents, "sqs:SendMessage", queue)

    # When the destination is removed, so is the config
    deploy(aws, project(Agent("support")), store)

    with pytest.raises(ClientError) as gone:
        lam.get_function_event_invoke_config(FunctionName=function("support"))
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert not allows(policy_of(aws, "support"), "sns:Publish", topic)
    assert not engine.plan(project(Agent("support")), store, aws).has_changes


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        ("queue:missing", "queue:missing is not a queue or topic of this project"),
        ("table:orders", "table:orders is not a queue or topic of this project"),
        ("queue:ordered", "queue:ordered is FIFO; Lambda delivers failed invocations only"),
    ],
)
def test_an_on_failure_destination_lambda_cannot_use_is_a_problem(
    destination: str, expected: str
) -> None:
    blueprint = project(Agent("support", on_failure=destination))

    (message,) = problems(blueprint, "on_failure")

    assert message.startswith(expected)
    assert "agent/support/on-failure" not in builder.build(blueprint).specs


def test_destroying_the_project_removes_the_config_with_its_function(aws: AwsContext) -> None:
    store = MemoryStateStore()
    deploy(aws, project(Agent("support", on_failure="queue:failed")), store)

    result = engine.destroy(store, ListSink(), aws)

    assert result.status == "SUCCEEDED", result.error
    assert store.load() == {}


def test_all_of_them_together_plan_without_a_problem() -> None:
    agent = replace(
        Agent("support", on_failure="topic:alerts"),
        extra_models=("anthropic.claude-3-haiku-v1:0",),
        extra_statements=({"actions": ["sqs:GetQueueUrl"], "resources": ["queue:failed"]},),
    )

    assert engine.validate(project(agent)) == []
