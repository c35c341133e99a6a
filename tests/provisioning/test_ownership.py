"""Two projects never share a resource: names cannot collide, and a resource found by name
is adopted only when its tags say it is this stage's."""

from __future__ import annotations

import pytest

from provisioning import engine
from provisioning.aws import TAG_LOGICAL_ID, TAG_PROJECT, TAG_STAGE, AwsContext, Target
from provisioning.errors import BlueprintError
from provisioning.events import ListSink
from provisioning.model.blueprint import Agent, Blueprint, Component
from provisioning.model.naming import physical_name
from provisioning.state import MemoryStateStore, RecordedResource


def context(project: str, stage: str = "dev") -> AwsContext:
    return AwsContext(
        target=Target(region="us-east-1"), project=project, stage=stage, sleep=lambda _s: None
    )


def deployed(blueprint: Blueprint, aws: AwsContext) -> MemoryStateStore:
    store = MemoryStateStore()
    result = engine.deploy(blueprint, store, ListSink(), aws)
    assert result.status == "SUCCEEDED", result.error
    return store


def test_a_project_whose_names_read_alike_neither_adopts_nor_deletes_another_s(
    aws: AwsContext,
) -> None:
    # Given project hotel with agent dev-bot deployed
    hotel = context("hotel")
    first = deployed(Blueprint("hotel", "dev", agents=(Agent("dev-bot", timeout_s=30),)), hotel)
    theirs = {lid: r.physical_id for lid, r in first.load().items()}

    # When project hotel-dev deploys agent bot, then destroys it
    hotel_dev = context("hotel-dev")
    second = deployed(
        Blueprint("hotel-dev", "dev", agents=(Agent("bot", timeout_s=30),)), hotel_dev
    )
    ours = {r.physical_id for r in second.load().values()}
    destroyed = engine.destroy(second, ListSink(), hotel_dev)

    # Then it made its own resources, and hotel's function, role and log group are untouched
    assert destroyed.status == "SUCCEEDED", destroyed.error
    assert not ours & set(theirs.values())
    function = aws.client("lambda").get_function(FunctionName=theirs["agent/dev-bot/function"])
    assert function["Tags"][TAG_PROJECT] == "hotel"
    aws.client("iam").get_role(RoleName=theirs["agent/dev-bot/role"])
    groups = aws.client("logs").describe_log_groups(
        logGroupNamePrefix=theirs["agent/dev-bot/log-group"]
    )["logGroups"]
    assert [g["logGroupName"] for g in groups] == [theirs["agent/dev-bot/log-group"]]


def test_a_secret_parameter_with_another_owner_s_tags_is_not_adopted(aws: AwsContext) -> None:
    aws.reveal = {"ref-1": "sk-1"}.__getitem__
    agent = Agent("support", timeout_s=30, secrets={"OPENAI_API_KEY": "ref-1"})
    blueprint = Blueprint("acme", "dev", agents=(agent,))
    name = "/strands-deploy/acme/dev/support/OPENAI_API_KEY"
    aws.client("ssm").put_parameter(
        Name=name, Value="theirs", Type="SecureString", Tags=[{"Key": TAG_PROJECT, "Value": "x"}]
    )

    problems = engine.plan(blueprint, MemoryStateStore(), aws).problems

    assert [(node, field) for node, field, _ in problems] == [("agent:support", "name")]
    assert f"the name {name} is taken by another owner" in problems[0][2]


# Without a dead-letter queue: the plan reads a queue whose properties it knows in full.
QUEUE = Blueprint("acme", "dev", components=(Component("queue", "jobs", {"dead_letter": False}),))


def test_a_resource_with_our_name_but_another_owner_s_tags_stops_the_plan(aws: AwsContext) -> None:
    # Given a queue with exactly our name, tagged as another project's
    name = physical_name("acme", "dev", "jobs", kind="sqs")
    foreign = {TAG_PROJECT: "other", TAG_STAGE: "dev", TAG_LOGICAL_ID: "queue/jobs"}
    url = aws.client("sqs").create_queue(QueueName=name, tags=foreign)["QueueUrl"]

    # When acme plans and deploys its queue
    plan = engine.plan(QUEUE, MemoryStateStore(), aws)
    store = MemoryStateStore()
    with pytest.raises(BlueprintError) as refused:
        engine.deploy(QUEUE, store, ListSink(), aws)

    # Then the plan says who holds the name, and nothing is adopted or changed
    (problem,) = plan.problems
    assert problem[0] == "queue:jobs"
    assert f"the name {name} is taken by another owner" in problem[2]
    assert f"{TAG_PROJECT}=other" in problem[2]
    assert f"{TAG_PROJECT}=other" in str(refused.value)
    assert store.load() == {}
    assert aws.client("sqs").list_queue_tags(QueueUrl=url)["Tags"] == foreign


def test_an_untagged_resource_with_our_name_is_taken_unless_our_run_was_making_it(
    aws: AwsContext,
) -> None:
    # Given a bucket with exactly our bucket's name and no tags at all
    blueprint = Blueprint("acme", "dev", components=(Component("bucket", "docs"),))
    probe = engine.plan(blueprint, MemoryStateStore(), aws)
    name = probe.by_id()["bucket/docs"].properties["name"]
    aws.client("s3").create_bucket(Bucket=name)

    # Then a stage that was not making it refuses it ...
    (problem,) = engine.plan(blueprint, MemoryStateStore(), aws).problems
    assert "tags say no owner" in problem[2]

    # ... and a stage whose interrupted run was making it (S3 tags a bucket after making
    # it) adopts it rather than failing
    store = MemoryStateStore()
    store.save_intent(RecordedResource("bucket/docs", "s3:bucket", "", properties={"name": name}))
    result = engine.deploy(blueprint, store, ListSink(), aws)
    assert result.status == "SUCCEEDED", result.error
    assert store.load()["bucket/docs"].physical_id == name


def test_bucket_names_carry_a_suffix_of_the_account_and_stage(aws: AwsContext) -> None:
    blueprint = Blueprint("acme", "dev", components=(Component("bucket", "docs"),))
    store = deployed(blueprint, aws)

    name = store.load()["bucket/docs"].physical_id
    base = physical_name("acme", "dev", "docs", kind="s3", lowercase=True)
    assert name.startswith(f"{base}-") and len(name) == len(base) + 7
    assert engine.plan(blueprint, store, aws).has_changes is False  # stable on the next run
    prod = Blueprint("acme", "prod", components=blueprint.components)
    other_stage = deployed(prod, context("acme", "prod"))
    assert other_stage.load()["bucket/docs"].physical_id != name


def test_a_bucket_component_may_not_take_the_stage_s_artifacts_name() -> None:
    blueprint = Blueprint("acme", "dev", components=(Component("bucket", "artifacts"),))

    problems = engine.validate(blueprint)

    assert ("bucket:artifacts", "name") in [(node, field) for node, field, _ in problems]
    assert any("reserved for the stage's artifacts bucket" in m for _, _, m in problems)
