"""The fault proxy in front of a real sandbox server: latency, counting, throttling, lost replies."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from tests.support.faultproxy import Call, FaultProxy


def client(proxy: FaultProxy, service: str, *, attempts: int = 1) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=proxy.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox-secret",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


def upstream_client(upstream: str, service: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=upstream,
        region_name="us-east-1",
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox-secret",
    )


def test_latency_is_added_to_the_named_action_only(proxy: FaultProxy) -> None:
    proxy.set_profile({"latency": {"sqs:CreateQueue": 0.6}})
    sqs = client(proxy, "sqs")

    started = time.monotonic()
    sqs.create_queue(QueueName="slow")
    slow = time.monotonic() - started
    started = time.monotonic()
    sqs.list_queues()
    fast = time.monotonic() - started

    assert slow >= 0.6
    assert fast < 0.4


def test_calls_are_counted_by_action_across_protocols(proxy: FaultProxy) -> None:
    client(proxy, "sqs").create_queue(QueueName="jobs")
    client(proxy, "iam").create_role(RoleName="worker", AssumeRolePolicyDocument="{}")
    s3 = client(proxy, "s3")
    s3.create_bucket(Bucket="bench-docs")
    s3.put_bucket_tagging(Bucket="bench-docs", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    api = client(proxy, "apigatewayv2")
    api_id = api.create_api(Name="public", ProtocolType="HTTP")["ApiId"]
    api.create_route(ApiId=api_id, RouteKey="GET /hello")
    api.create_route(ApiId=api_id, RouteKey="GET /bye")

    counts = proxy.stats()["calls"]

    assert counts == {
        "sqs:CreateQueue": 1,
        "iam:CreateRole": 1,
        "s3:CreateBucket": 1,
        "s3:PutBucketTagging": 1,
        "apigatewayv2:CreateApi": 1,
        "apigatewayv2:CreateRoute": 2,
    }


def test_full_throttling_fails_a_call_without_retries(proxy: FaultProxy) -> None:
    proxy.set_profile({"faults": [{"action": "sqs:CreateQueue", "kind": "throttle"}]})

    with pytest.raises(ClientError) as raised:
        client(proxy, "sqs", attempts=1).create_queue(QueueName="never")

    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_half_throttling_is_ridden_out_by_standard_retries(proxy: FaultProxy) -> None:
    proxy.set_profile(
        {"seed": 11, "faults": [{"action": "iam:*", "kind": "throttle", "rate": 0.5}]}
    )
    iam = client(proxy, "iam", attempts=10)

    for n in range(4):
        iam.create_role(RoleName=f"role-{n}", AssumeRolePolicyDocument="{}")

    stats = proxy.stats()["actions"]["iam:CreateRole"]
    assert stats["injected"] >= 1, "the rule never fired: the test proves nothing"
    assert stats["calls"] == 4 + stats["injected"]
    assert len(iam.list_roles()["Roles"]) == 4


def test_a_call_aws_did_but_the_client_saw_fail(proxy: FaultProxy, upstream: str) -> None:
    proxy.set_profile(
        {"faults": [{"action": "sqs:CreateQueue", "kind": "server_error", "after": True}]}
    )

    with pytest.raises(ClientError) as raised:
        client(proxy, "sqs", attempts=1).create_queue(QueueName="made-anyway")

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    urls = upstream_client(upstream, "sqs").list_queues().get("QueueUrls", [])
    assert [u.rsplit("/", 1)[-1] for u in urls] == ["made-anyway"]


def test_a_dropped_connection_reaches_the_client(proxy: FaultProxy) -> None:
    proxy.set_profile({"faults": [{"action": "sns:CreateTopic", "kind": "reset", "count": 1}]})
    sns = client(proxy, "sns", attempts=1)

    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        sns.create_topic(Name="news")
    arn = sns.create_topic(Name="news")["TopicArn"]  # the rule fired its one time

    assert arn.endswith(":news")
    created = proxy.stats()["actions"]["sns:CreateTopic"]
    assert (created["calls"], created["injected"]) == (2, 1)


def test_another_process_steers_the_proxy_over_http(proxy: FaultProxy) -> None:
    control = f"{proxy.endpoint_url}/__proxy__"
    profile = {"faults": [{"action": "lambda:ListFunctions", "kind": "too_many_requests"}]}
    post = urllib.request.Request(
        f"{control}/profile", data=json.dumps(profile).encode(), method="POST"
    )
    urllib.request.urlopen(post).close()

    with pytest.raises(ClientError) as raised:
        client(proxy, "lambda").list_functions()
    with urllib.request.urlopen(f"{control}/stats") as reply:
        stats = json.load(reply)
    urllib.request.urlopen(urllib.request.Request(f"{control}/reset", method="POST")).close()

    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert stats["calls"] == {"lambda:ListFunctions": 1}
    assert proxy.stats()["total_calls"] == 0


@pytest.fixture
def slow_recording(proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The proxy's bookkeeping held back until the test says it has read the stats (or
    half a second passed): a proxy that answers before it records is then caught every
    time, not once in a hundred runs under load."""
    stats_read = threading.Event()
    record = proxy._state.record

    def held_back(call: Call) -> None:
        stats_read.wait(timeout=0.5)
        record(call)

    monkeypatch.setattr(proxy._state, "record", held_back)
    yield stats_read
    stats_read.set()


def test_a_call_is_counted_before_its_answer_reaches_the_client(
    proxy: FaultProxy, slow_recording: threading.Event
) -> None:
    client(proxy, "sqs").create_queue(QueueName="counted")

    counts = proxy.stats()["calls"]
    slow_recording.set()

    assert counts == {"sqs:CreateQueue": 1}


def test_a_dropped_connection_is_counted_before_the_client_sees_it(
    proxy: FaultProxy, slow_recording: threading.Event
) -> None:
    proxy.set_profile({"faults": [{"action": "sns:CreateTopic", "kind": "reset", "count": 1}]})

    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        client(proxy, "sns", attempts=1).create_topic(Name="news")
    created = proxy.stats()["actions"].get("sns:CreateTopic", {})
    slow_recording.set()

    assert (created.get("calls"), created.get("injected")) == (1, 1)
