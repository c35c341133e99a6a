"""SQS queues and queue policies.

sqs:queue properties:
  name: str ("...fifo" when fifo)
  fifo: bool, content_based_deduplication: bool
  visibility_timeout_s: int, message_retention_s: int, receive_wait_time_s: int, delay_s: int
  dead_letter: {"target_arn": str (Ref), "max_receive_count": int} | None
  kms_master_key_id: str | None   (None: SQS-managed encryption)
outputs: physical_id (queue URL), url, arn, name

sqs:queue-policy properties: queue_url (Ref), policy: dict (may hold Refs)
outputs: physical_id (queue URL)"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from provisioning.errors import aws_errors, delete_if_present, error_code, retry_while
from provisioning.provisioners.base import Current, Provisioner, physical_id_of
from provisioning.state import RecordedResource

_GONE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
# AWS refuses a queue name for 60 seconds after a queue of that name is deleted
_DELETED_RECENTLY = ("AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently")
_INT_ATTRIBUTES = {
    "visibility_timeout_s": ("VisibilityTimeout", 30),
    "message_retention_s": ("MessageRetentionPeriod", 345600),
    "receive_wait_time_s": ("ReceiveMessageWaitTimeSeconds", 0),
    "delay_s": ("DelaySeconds", 0),
}


def build_redrive_policy(dead_letter: Mapping[str, Any] | None) -> str:
    """The RedrivePolicy attribute; "" (what SQS takes to remove it) when None."""
    if not dead_letter:
        return ""
    count = int(dead_letter.get("max_receive_count", 5))
    if not 1 <= count <= 1000:
        raise ValueError(f"max_receive_count must be 1-1000, got {count}")
    return json.dumps(
        {"deadLetterTargetArn": str(dead_letter["target_arn"]), "maxReceiveCount": count}
    )


def canonical_queue(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The spec with defaults filled in, in the shape `read_queue` returns."""
    queue = dict(properties)
    queue["fifo"] = bool(queue.get("fifo", False))
    queue["content_based_deduplication"] = queue["fifo"] and bool(
        queue.get("content_based_deduplication", False)
    )
    for key, (_attribute, default) in _INT_ATTRIBUTES.items():
        value = queue.get(key)
        queue[key] = default if value is None else int(value)
    dead_letter = queue.get("dead_letter")
    if dead_letter:
        queue["dead_letter"] = {
            "target_arn": dead_letter["target_arn"],
            "max_receive_count": int(dead_letter.get("max_receive_count", 5)),
        }
    else:
        queue["dead_letter"] = None
    queue["kms_master_key_id"] = queue.get("kms_master_key_id") or None
    return queue


def build_queue_attributes(
    queue: Mapping[str, Any], *, creating: bool, drop_kms_key: bool = False
) -> dict[str, str]:
    """SQS attributes for a canonical queue. FifoQueue is create-only and
    ContentBasedDeduplication exists only on FIFO queues; `drop_kms_key` moves a
    KMS-encrypted queue back to SQS-managed encryption."""
    attributes = {attr: str(queue[key]) for key, (attr, _default) in _INT_ATTRIBUTES.items()}
    attributes["RedrivePolicy"] = build_redrive_policy(queue["dead_letter"])
    if creating and not attributes["RedrivePolicy"]:
        del attributes["RedrivePolicy"]
    if queue["fifo"]:
        if creating:
            attributes["FifoQueue"] = "true"
        attributes["ContentBasedDeduplication"] = str(queue["content_based_deduplication"]).lower()
    if queue["kms_master_key_id"]:
        attributes["KmsMasterKeyId"] = queue["kms_master_key_id"]
        attributes["SqsManagedSseEnabled"] = "false"
    else:
        if drop_kms_key:
            attributes["KmsMasterKeyId"] = ""
        attributes["SqsManagedSseEnabled"] = "true"
    return attributes


def read_queue(name: str, attributes: Mapping[str, str]) -> dict[str, Any]:
    fifo = attributes.get("FifoQueue") == "true"
    queue: dict[str, Any] = {
        "name": name,
        "fifo": fifo,
        "content_based_deduplication": attributes.get("ContentBasedDeduplication") == "true",
    }
    for key, (attribute, default) in _INT_ATTRIBUTES.items():
        queue[key] = int(attributes.get(attribute, default))
    redrive = json.loads(attributes["RedrivePolicy"]) if attributes.get("RedrivePolicy") else {}
    queue["dead_letter"] = (
        {
            "target_arn": redrive["deadLetterTargetArn"],
            "max_receive_count": int(redrive["maxReceiveCount"]),
        }
        if redrive
        else None
    )
    queue["kms_master_key_id"] = attributes.get("KmsMasterKeyId") or None
    return queue


def _is_gone(exc: ClientError) -> bool:
    return error_code(exc) in _GONE


def _queue_url(sqs: Any, name: str) -> str:
    return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


def _all_attributes(sqs: Any, url: str) -> dict[str, str]:
    response = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    return dict(response.get("Attributes", {}))


class QueueProvisioner(Provisioner):
    resource_type = "sqs:queue"
    noun = "SQS queue"
    replace_on = {
        "name": "SQS cannot rename a queue",
        "fifo": "a queue is FIFO or standard from creation",
    }

    def with_defaults(self, properties: Mapping[str, Any]) -> Mapping[str, Any]:
        return canonical_queue(properties)

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        sqs = self.aws.client("sqs")
        name = physical_id_of(properties, recorded)
        with aws_errors("reading SQS queue", name):
            try:
                url = recorded.physical_id if recorded else _queue_url(sqs, name)
                attributes = _all_attributes(sqs, url)
            except ClientError as exc:
                if _is_gone(exc):
                    return None
                raise
        outputs = _outputs(url, attributes["QueueArn"])
        return Current(properties=read_queue(outputs["name"], attributes), outputs=outputs)

    def owner_tags(self, current: Current) -> Mapping[str, str] | None:
        url = current.outputs["url"]
        with aws_errors("reading tags of SQS queue", current.outputs["name"]):
            return dict(self.aws.client("sqs").list_queue_tags(QueueUrl=url).get("Tags") or {})

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        queue = canonical_queue(properties)

        def create() -> str:
            response = self.aws.client("sqs").create_queue(
                QueueName=queue["name"],
                Attributes=build_queue_attributes(queue, creating=True),
                tags=self.aws.tags(logical_id),
            )
            return str(response["QueueUrl"])

        url = retry_while(
            lambda exc: isinstance(exc, ClientError) and error_code(exc) in _DELETED_RECENTLY,
            create,
            timeout_s=90,
            sleep=self.aws.sleep,
            clock=self.aws.clock,
            first_delay_s=5,
            max_delay_s=15,
        )
        sqs = self.aws.client("sqs")
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return _outputs(str(url), attributes["Attributes"]["QueueArn"])

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        queue = canonical_queue(properties)
        url = current.outputs["url"]
        sqs = self.aws.client("sqs")
        attributes = build_queue_attributes(
            queue,
            creating=False,
            drop_kms_key=bool(current.properties.get("kms_master_key_id")),
        )
        # the sandbox (moto) drops a Policy that SetQueueAttributes does not repeat;
        # AWS keeps it, and repeating it there changes nothing
        policy = _all_attributes(sqs, url).get("Policy")
        if policy:
            attributes["Policy"] = policy
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        sqs.tag_queue(QueueUrl=url, Tags=self.aws.tags(logical_id))
        return _outputs(url, current.outputs["arn"])

    def destroy(self, recorded: RecordedResource) -> None:
        url = recorded.physical_id
        with aws_errors("deleting SQS queue", recorded.outputs.get("name") or url):
            delete_if_present(self.aws.client("sqs").delete_queue, *_GONE, QueueUrl=url)


def _outputs(url: str, arn: str) -> dict[str, Any]:
    return {"physical_id": url, "url": url, "arn": arn, "name": arn.rsplit(":", 1)[-1]}


class QueuePolicyProvisioner(Provisioner):
    """The queue's access policy, separate from the queue so it can name
    resources (an SNS topic) that are made after the queue."""

    resource_type = "sqs:queue-policy"
    noun = "SQS queue policy"
    replace_on = {"queue_url": "a policy belongs to one queue"}

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        url = recorded.physical_id if recorded else (properties or {}).get("queue_url")
        if not isinstance(url, str):
            return None  # the queue is still to be made
        with aws_errors("reading SQS queue policy", url):
            try:
                attributes = (
                    self.aws.client("sqs")
                    .get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
                    .get("Attributes", {})
                )
            except ClientError as exc:
                if _is_gone(exc):
                    return None
                raise
        if not attributes.get("Policy"):
            return None
        return Current(
            properties={"queue_url": url, "policy": json.loads(attributes["Policy"])},
            outputs={"physical_id": url},
        )

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        return self._set(properties)

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        return self._set(properties)

    def error_subject(self, properties: Mapping[str, Any], current: Current | None) -> str:
        return str(properties["queue_url"])

    def _set(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        url = properties["queue_url"]
        # Setting a policy is idempotent: there is no twin to guard against.
        with aws_errors("setting SQS queue policy", url):
            self.aws.client("sqs").set_queue_attributes(
                QueueUrl=url, Attributes={"Policy": json.dumps(properties["policy"])}
            )
        return {"physical_id": url}

    def destroy(self, recorded: RecordedResource) -> None:
        url = recorded.physical_id
        with aws_errors("removing SQS queue policy", url):
            delete_if_present(
                self.aws.client("sqs").set_queue_attributes,
                *_GONE,
                QueueUrl=url,
                Attributes={"Policy": ""},
            )


PROVISIONERS: tuple[type[Provisioner], ...] = (QueueProvisioner, QueuePolicyProvisioner)
