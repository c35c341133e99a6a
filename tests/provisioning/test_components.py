"""What a component's settings change in AWS: table keys, indexes and time to live, the
bucket's TLS-only policy, an API's CORS methods, a topic's display name."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from provisioning import engine
from provisioning.aws import AwsContext
from provisioning.events import ListSink
from provisioning.model.blueprint import Blueprint, Component
from provisioning.state import MemoryStateStore


def only(kind: str, name: str, settings: dict[str, Any]) -> Blueprint:
    return Blueprint("acme", "dev", components=(Component(kind, name, settings),))


def deploy(blueprint: Blueprint, aws: AwsContext, store: MemoryStateStore) -> dict[str, Any]:
    result = engine.deploy(blueprint, store, ListSink(), aws)
    assert result.status == "SUCCEEDED", result.error
    return {lid: r.outputs for lid, r in store.load().items()}


def changes(blueprint: Blueprint, aws: AwsContext, store: MemoryStateStore) -> dict[str, Any]:
    plan = engine.plan(blueprint, store, aws)
    return {c.logical_id: c for c in plan.changes if c.action != "NO_CHANGE"}


ORDERS = {
    "partition_key": "customer",
    "sort_key": "placed_at",
    "sort_key_type": "N",
    "global_secondary_indexes": [
        {"name": "by-status", "partition_key": "status", "sort_key": "placed_at", "sort_key_type": "N"}
    ],
    "local_secondary_indexes": [
        {"name": "by-total", "partition_key": "customer", "sort_key": "total", "sort_key_type": "N",
         "projection": "KEYS_ONLY"}
    ],
}  # fmt: skip


def test_a_table_with_number_keys_stores_and_finds_items_by_number(aws: AwsContext) -> None:
    store = MemoryStateStore()
    outputs = deploy(only("table", "orders", ORDERS), aws, store)
    table, ddb = outputs["table/orders"]["name"], aws.client("dynamodb")

    ddb.put_item(
        TableName=table,
        Item={"customer": {"S": "c1"}, "placed_at": {"N": "1700000000"},
              "status": {"S": "open"}, "total": {"N": "42"}},
    )  # fmt: skip

    by_time = ddb.query(
        TableName=table,
        KeyConditionExpression="customer = :c AND placed_at > :t",
        ExpressionAttributeValues={":c": {"S": "c1"}, ":t": {"N": "1600000000"}},
    )
    by_status = ddb.query(
        TableName=table,
        IndexName="by-status",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "open"}},
    )
    by_total = ddb.query(
        TableName=table,
        IndexName="by-total",
        KeyConditionExpression="customer = :c AND #t >= :n",
        ExpressionAttributeNames={"#t": "total"},
        ExpressionAttributeValues={":c": {"S": "c1"}, ":n": {"N": "40"}},
    )
    assert by_time["Count"] == by_status["Count"] == by_total["Count"] == 1
    with pytest.raises(ClientError):
        ddb.put_item(TableName=table, Item={"customer": {"S": "c2"}, "placed_at": {"S": "soon"}})
    assert changes(only("table", "orders", ORDERS), aws, store) == {}


def test_changing_a_local_index_is_planned_as_a_replacement_of_the_table(aws: AwsContext) -> None:
    store = MemoryStateStore()
    deploy(only("table", "orders", ORDERS), aws, store)
    moved = {**ORDERS, "local_secondary_indexes": []}

    change = changes(only("table", "orders", moved), aws, store)["table/orders"]

    assert change.action == "REPLACE"
    assert "local secondary indexes exist only from creation" in change.reason


def test_time_to_live_is_turned_on_for_the_attribute_and_off_again(aws: AwsContext) -> None:
    store = MemoryStateStore()
    outputs = deploy(only("table", "sessions", {"ttl_attribute": "expires_at"}), aws, store)
    table, ddb = outputs["table/sessions"]["name"], aws.client("dynamodb")

    ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    assert changes(only("table", "sessions", {"ttl_attribute": "expires_at"}), aws, store) == {}

    off = only("table", "sessions", {"ttl_attribute": ""})
    (change,) = changes(off, aws, store)["table/sessions"].changes
    assert (change.name, change.old, change.new) == ("ttl_attribute", "expires_at", "")
    deploy(off, aws, store)
    ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "DISABLED"


def test_a_bucket_refuses_requests_not_made_over_tls_until_that_is_turned_off(
    aws: AwsContext,
) -> None:
    store = MemoryStateStore()
    outputs = deploy(only("bucket", "docs", {}), aws, store)
    name, s3 = outputs["bucket/docs"]["name"], aws.client("s3")

    (statement,) = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert f"arn:aws:s3:::{name}/*" in statement["Resource"]
    assert changes(only("bucket", "docs", {}), aws, store) == {}

    deploy(only("bucket", "docs", {"tls_only": False}), aws, store)
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=name)
    assert changes(only("bucket", "docs", {"tls_only": False}), aws, store) == {}


def test_an_apis_cors_methods_and_a_topics_display_name_are_what_the_settings_say(
    aws: AwsContext,
) -> None:
    blueprint = Blueprint(
        "acme",
        "dev",
        components=(
            Component("http_api", "public", {"cors_methods": ["GET", "PUT"]}),
            Component("topic", "news", {"display_name": "Acme news"}),
        ),
    )
    store = MemoryStateStore()

    outputs = deploy(blueprint, aws, store)

    api = aws.client("apigatewayv2").get_api(ApiId=outputs["http_api/public/api"]["api_id"])
    assert sorted(api["CorsConfiguration"]["AllowMethods"]) == ["GET", "PUT"]
    topic = aws.client("sns").get_topic_attributes(TopicArn=outputs["topic/news"]["arn"])
    assert topic["Attributes"]["DisplayName"] == "Acme news"
    renamed = replace(
        blueprint,
        components=(blueprint.components[0], Component("topic", "news", {"display_name": "News"})),
    )
    assert list(changes(renamed, aws, store)) == ["topic/news"]
