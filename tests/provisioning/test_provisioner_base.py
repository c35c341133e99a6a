"""The base provision: find, create exactly once, adopt what a lost reply made, update."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from provisioning.aws import TAG_LOGICAL_ID, TAG_PROJECT, TAG_STAGE, AwsContext
from provisioning.errors import ProvisioningError, is_transient
from provisioning.provisioners.sqs import QueueProvisioner

QUEUE = {"name": "acme-dev-jobs", "visibility_timeout_s": 45}


class LostReplyQueue(QueueProvisioner):
    """AWS makes the queue, but the reply never arrives (a 500 after the work was done)."""

    creates = 0

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        type(self).creates += 1
        super().create(logical_id, properties)
        raise ClientError(
            {"Error": {"Code": "InternalError"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
            "CreateQueue",
        )


def queue_urls(aws: AwsContext) -> list[str]:
    return list(aws.client("sqs").list_queues().get("QueueUrls", []))


def test_a_create_whose_reply_was_lost_is_found_and_adopted_not_made_twice(
    aws: AwsContext,
) -> None:
    # Given a create that AWS carries out but whose reply is lost
    provisioner = LostReplyQueue(aws)

    # When the queue is provisioned
    outputs = provisioner.provision("queue/jobs", QUEUE, None)

    # Then it was asked for once, exists once, and is what the spec says
    assert LostReplyQueue.creates == 1
    assert queue_urls(aws) == [outputs["url"]]
    assert outputs["name"] == "acme-dev-jobs"
    current = provisioner.get_current_state(QUEUE, None)
    assert current is not None and current.properties["visibility_timeout_s"] == 45


def test_one_made_by_an_interrupted_run_of_ours_is_updated_not_made_again(
    aws: AwsContext,
) -> None:
    # Given our queue, made by a run that died before recording it
    url = aws.client("sqs").create_queue(QueueName="acme-dev-jobs", tags=aws.tags("queue/jobs"))[
        "QueueUrl"
    ]

    # When it is provisioned as if new
    outputs = QueueProvisioner(aws).provision("queue/jobs", QUEUE, None)

    # Then the same queue now matches the spec
    assert outputs["url"] == url and queue_urls(aws) == [url]
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "45"


def test_one_with_our_name_but_another_owner_is_refused_not_taken_over(
    aws: AwsContext,
) -> None:
    # Given a queue with our name that another project owns
    foreign = {TAG_PROJECT: "other", TAG_STAGE: "dev", TAG_LOGICAL_ID: "queue/jobs"}
    url = aws.client("sqs").create_queue(QueueName="acme-dev-jobs", tags=foreign)["QueueUrl"]

    # When we provision ours
    with pytest.raises(ProvisioningError) as refused:
        QueueProvisioner(aws).provision("queue/jobs", QUEUE, None)

    # Then the error names the owner, and their queue is untouched
    assert str(refused.value).startswith("creating SQS queue acme-dev-jobs: ")
    assert f"{TAG_PROJECT}=other" in str(refused.value)
    assert aws.client("sqs").list_queue_tags(QueueUrl=url)["Tags"] == foreign


def test_a_request_refused_before_it_was_sent_is_not_worth_another_try() -> None:
    assert not is_transient(ParamValidationError(report="bad"))
