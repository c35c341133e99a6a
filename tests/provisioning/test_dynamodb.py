"""DynamoDB tables against moto: create, no drift, update each property, drift, destroy."""

from __future__ import annotations

from typing import Any

import pytest

from provisioning.aws import AwsContext
from provisioning.errors import ProvisioningError
from provisioning.provisioners.base import Action
from provisioning.provisioners.dynamodb import (
    TableProvisioner,
    build_gsi,
    build_key_schema,
    build_stream_specification,
)
from provisioning.state import RecordedResource

TABLE = "acme-dev-orders"
BY_CUSTOMER = {
    "name": "by-customer",
    "partition_key": {"name": "customer", "type": "S"},
    "sort_key": {"name": "placed_at", "type": "N"},
    "projection": "ALL",
}


def spec(**overrides: Any) -> dict[str, Any]:
    return {
        "name": TABLE,
        "billing_mode": "PAY_PER_REQUEST",
        "read_capacity": None,
        "write_capacity": None,
        "partition_key": {"name": "id", "type": "S"},
        "sort_key": None,
        "stream_view_type": None,
        "global_secondary_indexes": [],
        "point_in_time_recovery": False,
        **overrides,
    }


def record(outputs: dict[str, Any], props: dict[str, Any]) -> RecordedResource:
    return RecordedResource(
        "table/orders", "dynamodb:table", outputs["physical_id"], outputs["arn"], outputs, "", props
    )


def changed(table: TableProvisioner, props: dict[str, Any], rec: RecordedResource) -> list[str]:
    plan = table.plan(rec.logical_id, props, rec, table.get_current_state(props, rec))
    return [c.name for c in plan.changes]


def test_build_key_schema() -> None:
    assert build_key_schema({"name": "pk", "type": "S"}, {"name": "sk", "type": "N"}) == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert build_key_schema({"name": "pk", "type": "S"}) == [
        {"AttributeName": "pk", "KeyType": "HASH"}
    ]


def test_build_stream_specification() -> None:
    assert build_stream_specification("NEW_IMAGE") == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_IMAGE",
    }
    assert build_stream_specification(None) == {"StreamEnabled": False}
    with pytest.raises(ValueError, match="ALL_IMAGES"):
        build_stream_specification("ALL_IMAGES")


def test_build_gsi_with_include_projection_and_capacity() -> None:
    gsi = build_gsi(
        {
            "name": "by-status",
            "partition_key": {"name": "status", "type": "S"},
            "projection": "INCLUDE",
            "non_key_attributes": ["total"],
            "read_capacity": 2,
            "write_capacity": 3,
        }
    )
    assert gsi == {
        "IndexName": "by-status",
        "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]},
        "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
    }
    with pytest.raises(ValueError, match="non_key_attributes"):
        build_gsi({**BY_CUSTOMER, "projection": "INCLUDE"})


def test_table_lifecycle(aws: AwsContext) -> None:
    client = aws.client("dynamodb")
    table = TableProvisioner(aws)
    props = spec()

    # given a new table spec, the plan creates it, and provision makes it ACTIVE
    assert table.plan("table/orders", props, None, None).action == Action.CREATE
    outputs = table.provision("table/orders", props, None)
    assert outputs["name"] == TABLE and outputs["stream_arn"] is None
    rec = record(outputs, props)
    described = client.describe_table(TableName=TABLE)["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert described["SSEDescription"]["Status"] == "ENABLED"
    tags = client.list_tags_of_resource(ResourceArn=outputs["arn"])["Tags"]
    assert {"Key": "strands-deploy:logical-id", "Value": "table/orders"} in tags
    assert changed(table, props, rec) == []

    # when each mutable property changes, the plan shows exactly it, and provision applies it
    steps: list[tuple[dict[str, Any], list[str]]] = [
        ({"point_in_time_recovery": True}, ["point_in_time_recovery"]),
        ({"stream_view_type": "NEW_AND_OLD_IMAGES"}, ["stream_view_type"]),
        ({"global_secondary_indexes": [BY_CUSTOMER]}, ["global_secondary_indexes"]),
        (
            {"billing_mode": "PROVISIONED", "read_capacity": 5, "write_capacity": 5},
            ["billing_mode", "read_capacity", "write_capacity", "global_secondary_indexes"],
        ),
        ({"read_capacity": 7}, ["read_capacity", "global_secondary_indexes"]),
        ({"global_secondary_indexes": []}, ["global_secondary_indexes"]),
        ({"stream_view_type": None}, ["stream_view_type"]),
    ]
    for change, expected in steps:
        props = {**props, **change}
        assert changed(table, props, rec) == expected, change
        outputs = table.provision("table/orders", props, table.get_current_state(props, rec))
        assert changed(table, props, rec) == [], change
        if change.get("stream_view_type"):
            assert outputs["stream_arn"].startswith(outputs["arn"] + "/stream/")
    live = client.describe_table(TableName=TABLE)["Table"]
    assert live["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert "GlobalSecondaryIndexes" not in live or live["GlobalSecondaryIndexes"] == []

    # when someone changes capacity by hand, the plan reports it
    client.update_table(
        TableName=TABLE, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 5}
    )
    assert changed(table, props, rec) == ["read_capacity"]

    # a new key cannot be applied in place
    current = table.get_current_state(props, rec)
    plan = table.plan(
        "table/orders", {**props, "sort_key": {"name": "at", "type": "N"}}, rec, current
    )
    assert plan.action == Action.REPLACE

    table.destroy(rec)
    assert table.get_current_state(props, rec) is None
    table.destroy(rec)


def test_table_with_sort_key_gsi_and_lsi_created_in_one_go(aws: AwsContext) -> None:
    table = TableProvisioner(aws)
    props = spec(
        sort_key={"name": "placed_at", "type": "N"},
        billing_mode="PROVISIONED",
        read_capacity=3,
        write_capacity=4,
        global_secondary_indexes=[BY_CUSTOMER],
        local_secondary_indexes=[
            {
                "name": "by-total",
                "sort_key": {"name": "total", "type": "N"},
                "projection": "KEYS_ONLY",
            }
        ],
        stream_view_type="KEYS_ONLY",
    )
    outputs = table.provision("table/orders", props, None)
    live = aws.client("dynamodb").describe_table(TableName=TABLE)["Table"]
    assert [i["IndexName"] for i in live["LocalSecondaryIndexes"]] == ["by-total"]
    # the index inherits the table's capacity when it names none
    assert live["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert outputs["stream_arn"]
    assert changed(table, props, record(outputs, props)) == []


def test_create_adopts_a_table_made_by_an_earlier_attempt(aws: AwsContext) -> None:
    table = TableProvisioner(aws)
    table.provision("table/orders", spec(), None)
    # given the state lost the table, planning again finds it and adopts it
    current = table.get_current_state(spec(), None)
    plan = table.plan("table/orders", spec(), None, current)
    assert (plan.action, plan.adopt) == (Action.NO_CHANGE, True)
    table.provision("table/orders", spec(), None)
    assert aws.client("dynamodb").list_tables()["TableNames"] == [TABLE]


def test_errors_name_action_and_table(aws: AwsContext) -> None:
    table = TableProvisioner(aws)
    bad = spec(global_secondary_indexes=[{**BY_CUSTOMER, "name": "x"}])  # index name too short
    with pytest.raises(ProvisioningError) as raised:
        table.provision("table/orders", bad, None)
    assert str(raised.value).startswith(f"creating DynamoDB table {TABLE}: ")
