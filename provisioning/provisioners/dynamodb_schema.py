"""DynamoDB table shapes: spec properties <-> the dicts the DynamoDB API speaks.

`canonical_table` fills a spec's defaults and `read_table` turns a DescribeTable
answer into the same shape, so the generic plan compares like with like.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

STREAM_VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
BILLING_MODES = ("PAY_PER_REQUEST", "PROVISIONED")


def build_key_schema(
    partition_key: Mapping[str, Any], sort_key: Mapping[str, Any] | None = None
) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition_key["name"], "KeyType": "HASH"}]
    if sort_key:
        schema.append({"AttributeName": sort_key["name"], "KeyType": "RANGE"})
    return schema


def build_stream_specification(view_type: str | None) -> dict[str, Any]:
    if view_type is None:
        return {"StreamEnabled": False}
    if view_type not in STREAM_VIEW_TYPES:
        raise ValueError(
            f"unknown stream view type {view_type!r}; use one of {', '.join(STREAM_VIEW_TYPES)}"
        )
    return {"StreamEnabled": True, "StreamViewType": view_type}


def build_projection(index: Mapping[str, Any]) -> dict[str, Any]:
    projection = index.get("projection") or "ALL"
    if projection not in PROJECTIONS:
        raise ValueError(f"index {index['name']}: unknown projection {projection!r}")
    result: dict[str, Any] = {"ProjectionType": projection}
    if projection == "INCLUDE":
        attributes = list(index.get("non_key_attributes") or [])
        if not attributes:
            raise ValueError(f"index {index['name']}: INCLUDE needs non_key_attributes")
        result["NonKeyAttributes"] = attributes
    return result


def build_gsi(index: Mapping[str, Any]) -> dict[str, Any]:
    """A `GlobalSecondaryIndex` for CreateTable or an UpdateTable `Create`.

    Capacity is sent only when the index has one (PROVISIONED tables).
    """
    gsi: dict[str, Any] = {
        "IndexName": index["name"],
        "KeySchema": build_key_schema(index["partition_key"], index.get("sort_key")),
        "Projection": build_projection(index),
    }
    if index.get("read_capacity") is not None:
        gsi["ProvisionedThroughput"] = {
            "ReadCapacityUnits": int(index["read_capacity"]),
            "WriteCapacityUnits": int(index["write_capacity"]),
        }
    return gsi


def build_lsi(index: Mapping[str, Any], partition_key: Mapping[str, Any]) -> dict[str, Any]:
    """A `LocalSecondaryIndex`: the table's partition key with another sort key."""
    return {
        "IndexName": index["name"],
        "KeySchema": build_key_schema(partition_key, index["sort_key"]),
        "Projection": build_projection(index),
    }


def attribute_definitions(table: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every key attribute of the table and its indexes, each once."""
    types: dict[str, str] = {}
    for key in _all_keys(table):
        known = types.setdefault(key["name"], key["type"])
        if known != key["type"]:
            raise ValueError(f"attribute {key['name']} is used as both {known} and {key['type']}")
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in types.items()]


def _all_keys(table: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield table["partition_key"]
    if table.get("sort_key"):
        yield table["sort_key"]
    for index in [
        *(table.get("global_secondary_indexes") or []),
        *(table.get("local_secondary_indexes") or []),
    ]:
        if index.get("partition_key"):
            yield index["partition_key"]
        if index.get("sort_key"):
            yield index["sort_key"]


def canonical_key(key: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not key:
        return None
    return {"name": str(key["name"]), "type": str(key.get("type") or "S")}


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def canonical_index(
    index: Mapping[str, Any], table: Mapping[str, Any], *, is_global: bool = True
) -> dict[str, Any]:
    projection = index.get("projection") or "ALL"
    result: dict[str, Any] = {"name": index["name"]}
    if is_global:
        result["partition_key"] = canonical_key(index["partition_key"])
    result["sort_key"] = canonical_key(index.get("sort_key"))
    result["projection"] = projection
    nka = index.get("non_key_attributes") or []
    result["non_key_attributes"] = sorted(nka) if projection == "INCLUDE" else []
    if is_global:
        provisioned = table["billing_mode"] == "PROVISIONED"
        read, write = index.get("read_capacity"), index.get("write_capacity")
        result["read_capacity"] = (
            _optional_int(read or table["read_capacity"]) if provisioned else None
        )
        result["write_capacity"] = (
            _optional_int(write or table["write_capacity"]) if provisioned else None
        )
    return result


def canonical_table(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The spec with every default filled in and indexes sorted by name."""
    table = dict(properties)
    billing = table.get("billing_mode") or "PAY_PER_REQUEST"
    if billing not in BILLING_MODES:
        raise ValueError(f"unknown billing mode {billing!r}; use one of {', '.join(BILLING_MODES)}")
    provisioned = billing == "PROVISIONED"
    table["billing_mode"] = billing
    table["read_capacity"] = _optional_int(table.get("read_capacity")) if provisioned else None
    table["write_capacity"] = _optional_int(table.get("write_capacity")) if provisioned else None
    if provisioned and (table["read_capacity"] is None or table["write_capacity"] is None):
        raise ValueError("a PROVISIONED table needs read_capacity and write_capacity")
    table["partition_key"] = canonical_key(table["partition_key"])
    table["sort_key"] = canonical_key(table.get("sort_key"))
    table["stream_view_type"] = table.get("stream_view_type") or None
    table["point_in_time_recovery"] = bool(table.get("point_in_time_recovery", False))
    table["ttl_attribute"] = str(table.get("ttl_attribute") or "")
    table["global_secondary_indexes"] = _sorted_indexes(
        canonical_index(g, table) for g in table.get("global_secondary_indexes") or []
    )
    table["local_secondary_indexes"] = _sorted_indexes(
        canonical_index(i, table, is_global=False)
        for i in table.get("local_secondary_indexes") or []
    )
    return table


def _sorted_indexes(indexes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(indexes, key=lambda index: str(index["name"]))


def read_table(description: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeTable `Table` in the shape of `canonical_table` (without PITR,
    which DescribeContinuousBackups answers)."""
    types = {a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]}
    billing = (description.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    provisioned = billing == "PROVISIONED"
    read, write = _read_capacity(description, provisioned)
    stream = description.get("StreamSpecification") or {}
    table: dict[str, Any] = {
        "name": description["TableName"],
        "billing_mode": billing,
        "read_capacity": read,
        "write_capacity": write,
        **_read_keys(description["KeySchema"], types),
        "stream_view_type": stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
    }
    table["global_secondary_indexes"] = _sorted_indexes(
        _read_index(i, types, provisioned, is_global=True)
        for i in description.get("GlobalSecondaryIndexes") or []
    )
    table["local_secondary_indexes"] = _sorted_indexes(
        _read_index(i, types, provisioned, is_global=False)
        for i in description.get("LocalSecondaryIndexes") or []
    )
    return table


def _read_keys(schema: list[Mapping[str, str]], types: Mapping[str, str]) -> dict[str, Any]:
    keys: dict[str, Any] = {"partition_key": None, "sort_key": None}
    for element in schema:
        slot = "partition_key" if element["KeyType"] == "HASH" else "sort_key"
        name = element["AttributeName"]
        keys[slot] = {"name": name, "type": types.get(name, "S")}
    return keys


def _read_capacity(described: Mapping[str, Any], provisioned: bool) -> tuple[Any, Any]:
    if not provisioned:
        return None, None
    throughput = described.get("ProvisionedThroughput") or {}
    return throughput.get("ReadCapacityUnits"), throughput.get("WriteCapacityUnits")


def _read_index(
    index: Mapping[str, Any], types: Mapping[str, str], provisioned: bool, *, is_global: bool
) -> dict[str, Any]:
    keys = _read_keys(index["KeySchema"], types)
    projection = index.get("Projection") or {}
    kind = projection.get("ProjectionType", "ALL")
    result: dict[str, Any] = {"name": index["IndexName"]}
    if is_global:
        result["partition_key"] = keys["partition_key"]
    result["sort_key"] = keys["sort_key"]
    result["projection"] = kind
    nka = projection.get("NonKeyAttributes") or []
    result["non_key_attributes"] = sorted(nka) if kind == "INCLUDE" else []
    if is_global:
        result["read_capacity"], result["write_capacity"] = _read_capacity(index, provisioned)
    return result
