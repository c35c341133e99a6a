"""SQS queues and queue policies against moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provisioning.aws import AwsContext
from provisioning.errors import ProvisioningError
from provisioning.provisioners.base import Action
from provisioning.provisioners.sqs import (
    QueuePolicyProvisioner,
    QueueProvisioner,
    build_redrive_policy,
)
from provisioning.state import RecordedResource

QUEUE = "acme-dev-jobs"


def spec(**overrides: Any) -> dict[str, Any]:
    return {
        "name": QUEUE,
        "fifo": False,
        "content_based_deduplication": False,
        "visibility_timeout_s": 30,
        "message_retention_s": 345600,
        "receive_wait_time_s": 0,
        "delay_s": 0,
        "dead_letter": None,
        "kms_master_key_id": None,
        **overrides,
    }


def record(
    logical_id: str, kind: str, outputs: dict[str, Any], props: dict[str, Any]
) -> RecordedResource:
    return RecordedResource(
        logical_id, kind, outputs["physical_id"], outputs.get("arn", ""), outputs, "", props
    )


def changed(provisioner: Any, props: dict[str, Any], rec: RecordedResource) -> list[str]:
    plan = provisioner.plan(rec.logical_id, props, rec, provisioner.get_current_state(props, rec))
    return [c.name for c in plan.changes]


def test_build_redrive_policy() -> None:
    arn = "arn:aws:sqs:us-east-1:123456789012:dlq"
    assert json.loads(build_redrive_policy({"target_arn": arn, "max_receive_count": 3})) == {
        "deadLetterTargetArn": arn,
        "maxReceiveCount": 3,
    }
    assert build_redrive_policy(None) == ""
    with pytest.raises(ValueError, match="1-1000"):
        build_redrive_policy({"target_arn": arn, "max_receive_count": 0})


def test_queue_lifecycle(aws: AwsContext) -> None:
    sqs = aws.client("sqs")
    queues = QueueProvisioner(aws)
    dlq = queues.provision("queue/jobs-dlq", spec(name="acme-dev-jobs-dlq"), None)
    props = spec()

    # given a new queue spec, provision makes it encrypted and tagged, and nothing differs
    assert (
        queues.plan("queue/jobs", props, None, queues.get_current_state(props, None)).action
        == Action.CREATE
    )
    outputs = queues.provision("queue/jobs", props, None)
    assert outputs["name"] == QUEUE and outputs["arn"].endswith(f":{QUEUE}")
    assert (
        outputs["physical_id"] == outputs["url"] == sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    )
    rec = record("queue/jobs", "sqs:queue", outputs, props)
    attributes = sqs.get_queue_attributes(QueueUrl=outputs["url"], AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["SqsManagedSseEnabled"] == "true"
    assert (
        sqs.list_queue_tags(QueueUrl=outputs["url"])["Tags"]["strands-deploy:logical-id"]
        == "queue/jobs"
    )
    assert changed(queues, props, rec) == []

    # when each mutable property changes, the plan shows exactly it, and provision applies it
    for name, value in [
        ("visibility_timeout_s", 120),
        ("message_retention_s", 3600),
        ("receive_wait_time_s", 20),
        ("delay_s", 5),
        ("dead_letter", {"target_arn": dlq["arn"], "max_receive_count": 4}),
        ("kms_master_key_id", "alias/acme"),
        ("kms_master_key_id", None),
        ("dead_letter", None),
    ]:
        props = {**props, name: value}
        assert changed(queues, props, rec) == [name]
        queues.provision("queue/jobs", props, queues.get_current_state(props, rec))
        assert changed(queues, props, rec) == []

    # when someone changes the visibility timeout by hand, the plan reports it
    sqs.set_queue_attributes(QueueUrl=outputs["url"], Attributes={"VisibilityTimeout": "7"})
    assert changed(queues, props, rec) == ["visibility_timeout_s"]

    # turning a queue into FIFO needs a new queue
    current = queues.get_current_state(props, rec)
    assert queues.plan("queue/jobs", {**props, "fifo": True}, rec, current).action == Action.REPLACE

    queues.destroy(rec)
    assert queues.get_current_state(props, rec) is None
    queues.destroy(rec)


def test_fifo_queue_with_content_based_deduplication(aws: AwsContext) -> None:
    queues = QueueProvisioner(aws)
    props = spec(name=f"{QUEUE}.fifo", fifo=True, content_based_deduplication=True)
    outputs = queues.provision("queue/jobs", props, None)
    rec = record("queue/jobs", "sqs:queue", outputs, props)
    assert outputs["name"] == "acme-dev-jobs.fifo"
    assert changed(queues, props, rec) == []

    props = {**props, "content_based_deduplication": False}
    assert changed(queues, props, rec) == ["content_based_deduplication"]
    queues.provision("queue/jobs", props, queues.get_current_state(props, rec))
    assert changed(queues, props, rec) == []


def test_create_adopts_an_existing_queue(aws: AwsContext) -> None:
    url = aws.client("sqs").create_queue(QueueName=QUEUE)["QueueUrl"]
    queues = QueueProvisioner(aws)
    props = spec(visibility_timeout_s=90)
    plan = queues.plan("queue/jobs", props, None, queues.get_current_state(props, None))
    assert plan.adopt and [c.name for c in plan.changes] == ["visibility_timeout_s"]
    assert queues.provision("queue/jobs", props, None)["url"] == url
    assert len(aws.client("sqs").list_queues()["QueueUrls"]) == 1


def test_queue_policy_lifecycle(aws: AwsContext) -> None:
    sqs = aws.client("sqs")
    queue = QueueProvisioner(aws).provision("queue/jobs", spec(), None)
    policies = QueuePolicyProvisioner(aws)
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue["arn"],
    }
    props = {
        "queue_url": queue["url"],
        "policy": {"Version": "2012-10-17", "Statement": [statement]},
    }

    # given a queue without a policy, the plan creates one
    assert policies.get_current_state(props, None) is None
    outputs = policies.provision("queue/jobs/policy", props, None)
    assert outputs == {"physical_id": queue["url"]}
    rec = record("queue/jobs/policy", "sqs:queue-policy", outputs, props)
    assert changed(policies, props, rec) == []

    # when the document changes, the plan shows it and provision applies it
    props = {**props, "policy": {**props["policy"], "Statement": [{**statement, "Sid": "topic"}]}}
    assert changed(policies, props, rec) == ["policy"]
    policies.provision("queue/jobs/policy", props, policies.get_current_state(props, rec))
    assert changed(policies, props, rec) == []

    # updating the queue itself keeps the policy
    queue_props = spec(visibility_timeout_s=60)
    queue_rec = record("queue/jobs", "sqs:queue", queue, queue_props)
    QueueProvisioner(aws).provision(
        "queue/jobs", queue_props, QueueProvisioner(aws).get_current_state(queue_props, queue_rec)
    )
    assert changed(policies, props, rec) == []

    # when someone edits the policy by hand, the plan reports it
    edited = {"Version": "2012-10-17", "Statement": [{**statement, "Sid": "by-hand"}]}
    sqs.set_queue_attributes(QueueUrl=queue["url"], Attributes={"Policy": json.dumps(edited)})
    assert changed(policies, props, rec) == ["policy"]

    policies.destroy(rec)
    assert policies.get_current_state(props, rec) is None
    policies.destroy(rec)
    QueueProvisioner(aws).destroy(queue_rec)
    policies.destroy(rec)  # the queue is gone too: still done


def test_errors_name_action_and_queue(aws: AwsContext) -> None:
    with pytest.raises(ProvisioningError) as raised:
        QueueProvisioner(aws).provision("queue/jobs", spec(name="jobs!"), None)
    assert str(raised.value).startswith("creating SQS queue jobs!: InvalidParameterValue")
