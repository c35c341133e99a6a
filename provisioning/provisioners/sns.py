"""SNS topics and subscriptions.

sns:topic properties:
  name: str (".fifo" when fifo), fifo: bool, content_based_deduplication: bool,
  kms_master_key_id: str | None, display_name: str
outputs: physical_id (topic arn), arn, name

sns:subscription properties:
  topic_arn (Ref), protocol: "sqs" | "lambda", endpoint (Ref to queue/function arn),
  filter_policy: dict | None, raw_message_delivery: bool
outputs: physical_id (subscription arn), arn

An SQS subscription also needs the queue to let the topic send to it: the graph
adds an sqs:queue-policy whose `policy` is `build_queue_policy_for_topic(...)`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from provisioning.errors import aws_errors, delete_if_present, found_or_none, is_not_found
from provisioning.provisioners.base import Current, Provisioner, tag_dict
from provisioning.state import RecordedResource

PROTOCOLS = ("sqs", "lambda")


def _filter_rules(policy: Mapping[str, Any], path: str) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    for key, value in policy.items():
        where = f"{path}.{key}" if path else str(key)
        if isinstance(value, Mapping):
            if not value:
                raise ValueError(f"filter policy {where}: an empty object matches nothing")
            rules[str(key)] = _filter_rules(value, where)
        elif isinstance(value, list | tuple):
            if not value:
                raise ValueError(f"filter policy {where}: an empty list matches nothing")
            rules[str(key)] = list(value)
        else:
            # SNS wants a list of conditions; a lone value means "equals this"
            rules[str(key)] = [value]
    return rules


def canonical_filter_policy(policy: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return _filter_rules(policy, "") if policy else None


def build_filter_policy(policy: Mapping[str, Any] | None) -> str:
    """The FilterPolicy attribute ("" means none). A lone value becomes a
    one-item list, e.g. {"type": "order"} -> {"type": ["order"]}."""
    canonical = canonical_filter_policy(policy)
    return json.dumps(canonical, sort_keys=True) if canonical else ""


def build_queue_policy_for_topic(queue_arn: str, topic_arn: str) -> dict[str, Any]:
    """The queue policy that lets exactly this topic send to the queue."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowTopicToSend",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }


def create_subscription(
    sns: Any,
    *,
    topic_arn: str,
    protocol: str,
    endpoint: str,
    filter_policy: Mapping[str, Any] | None = None,
    raw_message_delivery: bool = False,
) -> str:
    """Subscribe and return the subscription ARN. Same-account SQS and Lambda
    endpoints need no confirmation; the SQS queue still needs
    `build_queue_policy_for_topic` to accept the topic's messages."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unsupported protocol {protocol!r}; use one of {', '.join(PROTOCOLS)}")
    attributes: dict[str, str] = {}
    if filter_policy:
        attributes["FilterPolicy"] = build_filter_policy(filter_policy)
    if raw_message_delivery and protocol == "sqs":
        attributes["RawMessageDelivery"] = "true"
    response = sns.subscribe(
        TopicArn=topic_arn,
        Protocol=protocol,
        Endpoint=endpoint,
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    return str(response["SubscriptionArn"])


def _is_true(value: Any) -> bool:
    return str(value).lower() == "true"


def canonical_topic(properties: Mapping[str, Any]) -> dict[str, Any]:
    topic = dict(properties)
    topic["fifo"] = bool(topic.get("fifo", False))
    topic["content_based_deduplication"] = topic["fifo"] and bool(
        topic.get("content_based_deduplication", False)
    )
    topic["kms_master_key_id"] = topic.get("kms_master_key_id") or None
    topic["display_name"] = topic.get("display_name") or ""
    return topic


def read_topic(arn: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": arn.rsplit(":", 1)[-1],
        "fifo": _is_true(attributes.get("FifoTopic")),
        "content_based_deduplication": _is_true(attributes.get("ContentBasedDeduplication")),
        "kms_master_key_id": attributes.get("KmsMasterKeyId") or None,
        "display_name": attributes.get("DisplayName") or "",
    }


class TopicProvisioner(Provisioner):
    resource_type = "sns:topic"
    noun = "SNS topic"
    replace_on = {
        "name": "SNS cannot rename a topic",
        "fifo": "a topic is FIFO or standard from creation",
    }

    def with_defaults(self, properties: Mapping[str, Any]) -> Mapping[str, Any]:
        return canonical_topic(properties)

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        arn = recorded.physical_id if recorded else self._arn((properties or {})["name"])
        with aws_errors("reading SNS topic", arn):
            found = found_or_none(self._sns.get_topic_attributes, TopicArn=arn)
        if found is None:
            return None
        return Current(read_topic(arn, found["Attributes"]), _topic_outputs(arn))

    def owner_tags(self, current: Current) -> Mapping[str, str] | None:
        arn = current.outputs["arn"]
        with aws_errors("reading tags of SNS topic", current.outputs["name"]):
            answer = self.aws.client("sns").list_tags_for_resource(ResourceArn=arn)
        return tag_dict(answer.get("Tags") or [])

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        topic = canonical_topic(properties)
        return _topic_outputs(self._create(logical_id, topic))

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        arn = current.outputs["arn"]
        self._update(arn, canonical_topic(properties), current.properties)
        self._sns.tag_resource(ResourceArn=arn, Tags=self.aws.tag_list(logical_id))
        return _topic_outputs(arn)

    def destroy(self, recorded: RecordedResource) -> None:
        arn = recorded.physical_id
        with aws_errors("deleting SNS topic", arn):
            delete_if_present(self._sns.delete_topic, TopicArn=arn)

    @property
    def _sns(self) -> Any:
        return self.aws.client("sns")

    def _arn(self, name: str) -> str:
        return f"arn:{self.aws.partition}:sns:{self.aws.region}:{self.aws.account_id}:{name}"

    def _create(self, logical_id: str, topic: Mapping[str, Any]) -> str:
        attributes: dict[str, str] = {}
        if topic["fifo"]:
            attributes["FifoTopic"] = "true"
            attributes["ContentBasedDeduplication"] = str(
                topic["content_based_deduplication"]
            ).lower()
        if topic["kms_master_key_id"]:
            attributes["KmsMasterKeyId"] = topic["kms_master_key_id"]
        if topic["display_name"]:
            attributes["DisplayName"] = topic["display_name"]
        response = self._sns.create_topic(
            Name=topic["name"], Attributes=attributes, Tags=self.aws.tag_list(logical_id)
        )
        return str(response["TopicArn"])

    def _update(self, arn: str, topic: Mapping[str, Any], have: Mapping[str, Any]) -> None:
        # SetTopicAttributes takes one attribute per call
        wanted = {
            "DisplayName": (topic["display_name"], have.get("display_name")),
            "KmsMasterKeyId": (
                topic["kms_master_key_id"] or "",
                have.get("kms_master_key_id") or "",
            ),
        }
        if topic["fifo"]:
            wanted["ContentBasedDeduplication"] = (
                str(topic["content_based_deduplication"]).lower(),
                str(bool(have.get("content_based_deduplication"))).lower(),
            )
        for attribute, (value, old) in wanted.items():
            if value != old:
                self._sns.set_topic_attributes(
                    TopicArn=arn, AttributeName=attribute, AttributeValue=value
                )


def _topic_outputs(arn: str) -> dict[str, Any]:
    return {"physical_id": arn, "arn": arn, "name": arn.rsplit(":", 1)[-1]}


def canonical_subscription(properties: Mapping[str, Any]) -> dict[str, Any]:
    subscription = dict(properties)
    subscription["filter_policy"] = canonical_filter_policy(subscription.get("filter_policy"))
    # SNS has raw delivery only for queues and HTTP(S): a Lambda always gets the envelope
    subscription["raw_message_delivery"] = subscription.get("protocol") == "sqs" and bool(
        subscription.get("raw_message_delivery", False)
    )
    return subscription


def read_subscription(attributes: Mapping[str, Any]) -> dict[str, Any]:
    policy = attributes.get("FilterPolicy")
    return {
        "topic_arn": attributes.get("TopicArn"),
        "protocol": attributes.get("Protocol"),
        "endpoint": attributes.get("Endpoint"),
        "filter_policy": json.loads(policy) if policy else None,
        "raw_message_delivery": _is_true(attributes.get("RawMessageDelivery")),
    }


class SubscriptionProvisioner(Provisioner):
    resource_type = "sns:subscription"
    noun = "SNS subscription"
    replace_on = {
        "topic_arn": "a subscription belongs to one topic",
        "protocol": "SNS cannot change a subscription's protocol",
        "endpoint": "SNS cannot change a subscription's endpoint",
    }

    def with_defaults(self, properties: Mapping[str, Any]) -> Mapping[str, Any]:
        return canonical_subscription(properties)

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        arn = recorded.physical_id if recorded else self._find(properties or {})
        if arn is None:
            return None
        with aws_errors("reading SNS subscription", arn):
            found = found_or_none(self._sns.get_subscription_attributes, SubscriptionArn=arn)
        if found is None:
            return None
        return Current(read_subscription(found["Attributes"]), {"physical_id": arn, "arn": arn})

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # Subscribing twice answers with the same subscription: no twin to guard against.
        wanted = canonical_subscription(properties)
        arn = create_subscription(
            self._sns,
            topic_arn=wanted["topic_arn"],
            protocol=wanted["protocol"],
            endpoint=wanted["endpoint"],
            filter_policy=wanted["filter_policy"],
            raw_message_delivery=wanted["raw_message_delivery"],
        )
        return {"physical_id": arn, "arn": arn}

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        arn = current.outputs["arn"]
        self._update(arn, canonical_subscription(properties), current.properties)
        return {"physical_id": arn, "arn": arn}

    def error_subject(self, properties: Mapping[str, Any], current: Current | None) -> str:
        if current is not None:
            return str(current.outputs["arn"])
        return _describe(canonical_subscription(properties))

    def destroy(self, recorded: RecordedResource) -> None:
        arn = recorded.physical_id
        with aws_errors("deleting SNS subscription", arn):
            delete_if_present(self._sns.unsubscribe, SubscriptionArn=arn)

    @property
    def _sns(self) -> Any:
        return self.aws.client("sns")

    def _find(self, properties: Mapping[str, Any]) -> str | None:
        """The subscription of this endpoint to this topic, if SNS has one."""
        topic_arn, endpoint = properties.get("topic_arn"), properties.get("endpoint")
        if not isinstance(topic_arn, str) or not isinstance(endpoint, str):
            return None  # the topic or the endpoint is still to be made
        protocol = properties.get("protocol")
        with aws_errors("listing subscriptions of SNS topic", topic_arn):
            try:
                pages = self._sns.get_paginator("list_subscriptions_by_topic").paginate(
                    TopicArn=topic_arn
                )
                for page in pages:
                    for item in page.get("Subscriptions", []):
                        if item["Protocol"] == protocol and item["Endpoint"] == endpoint:
                            return str(item["SubscriptionArn"])
            except ClientError as exc:
                if is_not_found(exc):
                    return None
                raise
        return None

    def _update(self, arn: str, wanted: Mapping[str, Any], have: Mapping[str, Any]) -> None:
        if wanted["filter_policy"] != have.get("filter_policy"):
            self._sns.set_subscription_attributes(
                SubscriptionArn=arn,
                AttributeName="FilterPolicy",
                AttributeValue=build_filter_policy(wanted["filter_policy"]),
            )
        if wanted["protocol"] == "sqs" and wanted["raw_message_delivery"] != bool(
            have.get("raw_message_delivery")
        ):
            self._sns.set_subscription_attributes(
                SubscriptionArn=arn,
                AttributeName="RawMessageDelivery",
                AttributeValue=str(wanted["raw_message_delivery"]).lower(),
            )


def _describe(subscription: Mapping[str, Any]) -> str:
    return f"{subscription['protocol']}:{subscription['endpoint']} to {subscription['topic_arn']}"


PROVISIONERS: tuple[type[Provisioner], ...] = (TopicProvisioner, SubscriptionProvisioner)
