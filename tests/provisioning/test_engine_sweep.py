"""The orphan sweep: orphans a refresh listed are deleted as a run, one event apiece."""

from __future__ import annotations

from provisioning import engine
from provisioning.aws import AwsContext
from provisioning.events import EventStatus, ListSink


def test_a_sweep_deletes_each_orphan_and_says_so_in_its_events(aws: AwsContext) -> None:
    # given a queue nobody records, and one that is gone already
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="acme-dev-stray", tags={"strands-deploy:project": "acme"})[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    gone = arn.replace("stray", "gone")
    sink = ListSink()

    # when the sweep runs
    result = engine.sweep_orphans(
        [
            {"arn": arn, "service": "sqs", "name": "acme-dev-stray"},
            {"arn": gone, "service": "sqs", "name": "acme-dev-gone"},
        ],
        sink,
        aws,
    )

    # then both count as deleted, AWS no longer has the queue, and each has its events
    assert result.status == "SUCCEEDED", result.error
    assert result.counts == {"deleted": 2, "failed": 0, "skipped": 0}
    assert url not in sqs.list_queues().get("QueueUrls", [])
    done = [e for e in sink.events if e.status is EventStatus.SUCCEEDED]
    assert [e.resource for e in done] == [arn, gone]


def test_an_orphan_the_sweep_cannot_delete_fails_the_run_but_not_the_others(
    aws: AwsContext,
) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="acme-dev-stray")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    subnet = "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-1"
    sink = ListSink()

    result = engine.sweep_orphans(
        [
            {"arn": subnet, "service": "ec2", "name": "subnet-1"},
            {"arn": arn, "service": "sqs", "name": "acme-dev-stray"},
        ],
        sink,
        aws,
    )

    assert result.status == "FAILED"
    assert subnet in result.error and "AWS console" in result.error
    assert result.counts["deleted"] == 1
    assert url not in sqs.list_queues().get("QueueUrls", [])
