"""SNS topics and subscriptions against moto, including delivery to SQS."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provisioning.aws import AwsContext
from provisioning.errors import ProvisioningError
from provisioning.provisioners.base import Action
from provisioning.provisioners.sns import (
    SubscriptionProvisioner,
    TopicProvisioner,
    build_filter_policy,
    build_queue_policy_for_topic,
    create_subscription,
)
from provisioning.provisioners.sqs import QueuePolicyProvisioner, QueueProvisioner
from provisioning.state import RecordedResource

TOPIC = "acme-dev-events"


def topic_spec(**overrides: Any) -> dict[str, Any]:
    return {
        "name": TOPIC,
        "fifo": False,
        "content_based_deduplication": False,
        "kms_master_key_id": None,
        "display_name": "",
        **overrides,
    }


def queue_spec(name: str, *, fifo: bool = False) -> dict[str, Any]:
    return {"name": name, "fifo": fifo, "content_based_deduplication": fifo}


def record(
    logical_id: str, kind: str, outputs: dict[str, Any], props: dict[str, Any]
) -> RecordedResource:
    return RecordedResource(
        logical_id, kind, outputs["physical_id"], outputs["arn"], outputs, "", props
    )


def changed(provisioner: Any, props: dict[str, Any], rec: RecordedResource) -> list[str]:
    plan = provisioner.plan(rec.logical_id, props, rec, provisioner.get_current_state(props, rec))
    return [c.name for c in plan.changes]


def test_build_filter_policy_wraps_lone_values_and_keeps_nesting() -> None:
    policy = build_filter_policy(
        {"kind": "order", "total": [{"numeric": [">", 10]}], "a": {"b": "c"}}
    )
    assert json.loads(policy) == {
        "kind": ["order"],
        "total": [{"numeric": [">", 10]}],
        "a": {"b": ["c"]},
    }
    assert build_filter_policy(None) == ""
    with pytest.raises(ValueError, match="kind"):
        build_filter_policy({"kind": []})


def test_build_queue_policy_for_topic_allows_only_that_topic() -> None:
    policy = build_queue_policy_for_topic("arn:q", "arn:t")
    [statement] = policy["Statement"]
    assert statement["Resource"] == "arn:q"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": "arn:t"}}
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}


def test_create_subscription_refuses_unknown_protocols(aws: AwsContext) -> None:
    with pytest.raises(ValueError, match="email"):
        create_subscription(aws.client("sns"), topic_arn="t", protocol="email", endpoint="x@y")


def test_topic_lifecycle(aws: AwsContext) -> None:
    sns = aws.client("sns")
    topics = TopicProvisioner(aws)
    props = topic_spec()

    assert (
        topics.plan("topic/events", props, None, topics.get_current_state(props, None)).action
        == Action.CREATE
    )
    outputs = topics.provision("topic/events", props, None)
    assert outputs["arn"] == f"arn:aws:sns:us-east-1:123456789012:{TOPIC}" == outputs["physical_id"]
    rec = record("topic/events", "sns:topic", outputs, props)
    tags = sns.list_tags_for_resource(ResourceArn=outputs["arn"])["Tags"]
    assert {"Key": "strands-deploy:logical-id", "Value": "topic/events"} in tags
    assert changed(topics, props, rec) == []

    for name, value in [
        ("display_name", "Acme events"),
        ("kms_master_key_id", "alias/acme"),
        ("kms_master_key_id", None),
    ]:
        props = {**props, name: value}
        assert changed(topics, props, rec) == [name]
        topics.provision("topic/events", props, topics.get_current_state(props, rec))
        assert changed(topics, props, rec) == []

    sns.set_topic_attributes(
        TopicArn=outputs["arn"], AttributeName="DisplayName", AttributeValue="x"
    )
    assert changed(topics, props, rec) == ["display_name"]
    current = topics.get_current_state(props, rec)
    assert (
        topics.plan("topic/events", {**props, "fifo": True}, rec, current).action == Action.REPLACE
    )

    topics.destroy(rec)
    assert topics.get_current_state(props, rec) is None
    topics.destroy(rec)


def test_fifo_topic_content_based_deduplication_updates(aws: AwsContext) -> None:
    topics = TopicProvisioner(aws)
    props = topic_spec(name=f"{TOPIC}.fifo", fifo=True, content_based_deduplication=True)
    outputs = topics.provision("topic/events", props, None)
    rec = record("topic/events", "sns:topic", outputs, props)
    assert changed(topics, props, rec) == []
    props = {**props, "content_based_deduplication": False}
    assert changed(topics, props, rec) == ["content_based_deduplication"]
    topics.provision("topic/events", props, topics.get_current_state(props, rec))
    assert changed(topics, props, rec) == []


def test_subscription_lifecycle(aws: AwsContext) -> None:
    sns = aws.client("sns")
    topic = TopicProvisioner(aws).provision("topic/events", topic_spec(), None)
    queue = QueueProvisioner(aws).provision("queue/jobs", queue_spec("acme-dev-jobs"), None)
    subscriptions = SubscriptionProvisioner(aws)
    props = {
        "topic_arn": topic["arn"],
        "protocol": "sqs",
        "endpoint": queue["arn"],
        "filter_policy": None,
        "raw_message_delivery": False,
    }

    assert subscriptions.get_current_state(props, None) is None
    outputs = subscriptions.provision("topic/events/jobs", props, None)
    assert outputs["arn"].startswith(topic["arn"] + ":")
    rec = record("topic/events/jobs", "sns:subscription", outputs, props)
    assert changed(subscriptions, props, rec) == []
    # found again by topic and endpoint when the state lost it: adopted, not duplicated
    plan = subscriptions.plan(
        "topic/events/jobs", props, None, subscriptions.get_current_state(props, None)
    )
    assert (plan.action, plan.adopt) == (Action.NO_CHANGE, True)
    assert subscriptions.provision("topic/events/jobs", props, None) == outputs

    for name, value in [
        ("filter_policy", {"kind": ["order"]}),
        ("raw_message_delivery", True),
        ("filter_policy", None),
    ]:
        props = {**props, name: value}
        assert changed(subscriptions, props, rec) == [name]
        subscriptions.provision(
            "topic/events/jobs", props, subscriptions.get_current_state(props, rec)
        )
        assert changed(subscriptions, props, rec) == []

    sns.set_subscription_attributes(
        SubscriptionArn=outputs["arn"], AttributeName="RawMessageDelivery", AttributeValue="false"
    )
    assert changed(subscriptions, props, rec) == ["raw_message_delivery"]
    current = subscriptions.get_current_state(props, rec)
    plan = subscriptions.plan("topic/events/jobs", {**props, "endpoint": "arn:other"}, rec, current)
    assert plan.action == Action.REPLACE

    subscriptions.destroy(rec)
    assert subscriptions.get_current_state(props, rec) is None
    subscriptions.destroy(rec)
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic["arn"])["Subscriptions"]) == 0


def test_fifo_topic_delivers_only_matching_messages_to_a_fifo_queue(aws: AwsContext) -> None:
    sqs, sns = aws.client("sqs"), aws.client("sns")
    topic_props = topic_spec(name=f"{TOPIC}.fifo", fifo=True, content_based_deduplication=True)
    topic = TopicProvisioner(aws).provision("topic/events", topic_props, None)
    queue = QueueProvisioner(aws).provision(
        "queue/orders", queue_spec("acme-dev-orders.fifo", fifo=True), None
    )
    QueuePolicyProvisioner(aws).provision(
        "queue/orders/policy",
        {
            "queue_url": queue["url"],
            "policy": build_queue_policy_for_topic(queue["arn"], topic["arn"]),
        },
        None,
    )
    SubscriptionProvisioner(aws).provision(
        "topic/events/orders",
        {
            "topic_arn": topic["arn"],
            "protocol": "sqs",
            "endpoint": queue["arn"],
            "filter_policy": {"kind": "order"},
            "raw_message_delivery": True,
        },
        None,
    )

    # when an order and a refund are published
    for kind in ("order", "refund"):
        sns.publish(
            TopicArn=topic["arn"],
            Message=json.dumps({"kind": kind}),
            MessageGroupId="g1",
            MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}},
        )

    # then only the order reaches the queue, as the raw message
    messages = sqs.receive_message(QueueUrl=queue["url"], MaxNumberOfMessages=10).get(
        "Messages", []
    )
    assert [json.loads(m["Body"]) for m in messages] == [{"kind": "order"}]


def test_errors_name_action_and_resource(aws: AwsContext) -> None:
    missing_topic = "arn:aws:sns:us-east-1:123456789012:nope"
    props = {
        "topic_arn": missing_topic,
        "protocol": "sqs",
        "endpoint": "arn:aws:sqs:us-east-1:123456789012:q",
        "filter_policy": None,
        "raw_message_delivery": False,
    }
    with pytest.raises(ProvisioningError) as raised:
        SubscriptionProvisioner(aws).provision("topic/nope/q", props, None)
    assert str(raised.value).startswith("creating SNS subscription sqs:")
    assert raised.value.code
