"""Components (bucket, table, queue, topic, HTTP API) -> the AWS resources they are.

Each kind has a spec builder. Builders read settings the schema has cleaned
(provisioning/graph/checked_settings.py), so every default is the schema's; the rules
that tie one setting to another are checked here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from provisioning.model import bounds
from provisioning.model.blueprint import Component
from provisioning.model.naming import global_name
from provisioning.model.spec import Ref, ResourceSpec

Problem = tuple[str, str]  # (field, message)


class Namer(Protocol):
    def __call__(self, *parts: str, kind: str, lowercase: bool = False) -> str: ...


def _bucket(c: Component, name: Namer) -> list[ResourceSpec]:
    s = c.settings
    kms = s["kms_key_id"]
    return [
        ResourceSpec(
            f"bucket/{c.name}",
            "s3:bucket",
            {
                "name": global_name(name(c.name, kind="s3", lowercase=True)),
                "versioning": s["versioning"],
                "encryption": {"algorithm": "aws:kms" if kms else "AES256", "kms_key_id": kms},
                "block_public_access": True,
                "tls_only": s["tls_only"],
            },
            node=c.key,
        )
    ]


def _key(name: str, key_type: str) -> dict[str, str] | None:
    return {"name": name, "type": key_type} if name else None


def _index(index: Mapping[str, Any], *, local: bool = False) -> dict[str, Any]:
    """A schema `SecondaryIndex` in the shape the DynamoDB provisioner takes (a local index
    has the table's partition key, so it names only its sort key)."""
    shape = {
        "name": index["name"],
        "partition_key": _key(index["partition_key"], index["partition_key_type"]),
        "sort_key": _key(index["sort_key"], index["sort_key_type"]),
        "projection": index["projection"],
    }
    if local:
        del shape["partition_key"]
    return shape


def _table(c: Component, name: Namer) -> list[ResourceSpec]:
    s = c.settings
    provisioned = s["billing_mode"] == "PROVISIONED"
    return [
        ResourceSpec(
            f"table/{c.name}",
            "dynamodb:table",
            {
                "name": name(c.name, kind="dynamodb"),
                "billing_mode": s["billing_mode"],
                "read_capacity": s["read_capacity"] if provisioned else None,
                "write_capacity": s["write_capacity"] if provisioned else None,
                "partition_key": _key(s["partition_key"], s["partition_key_type"]),
                "sort_key": _key(s["sort_key"], s["sort_key_type"]),
                "stream_view_type": s["stream_view_type"],
                "global_secondary_indexes": [_index(i) for i in s["global_secondary_indexes"]],
                "local_secondary_indexes": [
                    _index(i, local=True) for i in s["local_secondary_indexes"]
                ],
                "point_in_time_recovery": s["point_in_time_recovery"],
                "ttl_attribute": s["ttl_attribute"],
            },
            node=c.key,
        )
    ]


def _queue_props(name: str, s: Mapping[str, Any], fifo: bool) -> dict[str, Any]:
    return {
        "name": name,
        "fifo": fifo,
        "content_based_deduplication": s["content_based_deduplication"] and fifo,
        "visibility_timeout_s": s["visibility_timeout_s"],
        "message_retention_s": s["message_retention_s"],
        "receive_wait_time_s": s["receive_wait_time_s"],
        "delay_s": s["delay_s"],
        "dead_letter": None,
        "kms_master_key_id": s["kms_master_key_id"],
    }


# A dead-letter queue keeps failures the longest SQS allows; nothing else of its queue's.
_DEAD_LETTER = {
    "content_based_deduplication": False,
    "visibility_timeout_s": 30,
    "message_retention_s": bounds.COMPONENT["queue"]["message_retention_s"].high,
    "receive_wait_time_s": 20,
    "delay_s": 0,
    "kms_master_key_id": None,
}


def _queue(c: Component, name: Namer) -> list[ResourceSpec]:
    s = c.settings
    fifo = s["fifo"]
    kind = "sqs_fifo" if fifo else "sqs"
    main = _queue_props(name(c.name, kind=kind), s, fifo)
    specs = []
    if s["dead_letter"]:
        dlq_id = f"queue/{c.name}/dlq"
        dlq = _queue_props(name(c.name, "dlq", kind=kind), _DEAD_LETTER, fifo)
        specs.append(ResourceSpec(dlq_id, "sqs:queue", dlq, node=c.key))
        main["dead_letter"] = {
            "target_arn": Ref(dlq_id, "arn"),
            "max_receive_count": s["max_receive_count"],
        }
    specs.insert(0, ResourceSpec(f"queue/{c.name}", "sqs:queue", main, node=c.key))
    return specs


def _topic(c: Component, name: Namer) -> list[ResourceSpec]:
    s = c.settings
    fifo = s["fifo"]
    base = name(c.name, kind="sns_fifo" if fifo else "sns")
    return [
        ResourceSpec(
            f"topic/{c.name}",
            "sns:topic",
            {
                "name": base,
                "fifo": fifo,
                "content_based_deduplication": s["content_based_deduplication"] and fifo,
                "kms_master_key_id": s["kms_master_key_id"],
                "display_name": s["display_name"],
            },
            node=c.key,
        )
    ]


def _http_api(c: Component, name: Namer) -> list[ResourceSpec]:
    s = c.settings
    cors = (
        {
            "allow_origins": list(s["cors_origins"]),
            "allow_methods": list(s["cors_methods"]),
            "allow_headers": ["authorization", "content-type"],
            "max_age": 300,
        }
        if s["cors_origins"]
        else None
    )
    api = f"http_api/{c.name}/api"
    return [
        ResourceSpec(
            api,
            "apigw:api",
            {"name": name(c.name, kind="apigw"), "description": f"HTTP API {c.name}", "cors": cors},
            node=c.key,
        ),
        ResourceSpec(
            f"http_api/{c.name}/stage",
            "apigw:stage",
            {
                "api_id": Ref(api, "api_id"),
                "name": "$default",
                "auto_deploy": True,
                "throttle": {"rate_limit": s["throttle_rate"], "burst_limit": s["throttle_burst"]},
            },
            node=c.key,
        ),
    ]


_BUILDERS: dict[str, Callable[[Component, Namer], list[ResourceSpec]]] = {
    "bucket": _bucket,
    "table": _table,
    "queue": _queue,
    "topic": _topic,
    "http_api": _http_api,
}


def component_specs(component: Component, name: Namer) -> list[ResourceSpec]:
    return _BUILDERS[component.kind](component, name)


def component_problems(component: Component) -> list[Problem]:
    """What AWS would refuse of a component whose settings the schema already cleaned:
    the rules that tie one setting to another."""
    if component.kind == "table":
        return table_problems(component.settings)
    if component.kind == "http_api":
        return jwt_problems(component.settings)
    return []


def jwt_problems(s: Mapping[str, Any]) -> list[Problem]:
    """What a JWT authorizer cannot be made without."""
    if s.get("auth") != "jwt":
        return []
    problems: list[Problem] = []
    if not s.get("jwt_issuer"):
        problems.append(("jwt_issuer", "jwt needs the token issuer's URL"))
    if not s.get("jwt_audience"):
        problems.append(("jwt_audience", "jwt needs at least one accepted audience"))
    return problems


# DynamoDB's per-table limits (GSIs: the default quota; LSIs: fixed).
MAX_GLOBAL_INDEXES = 20
MAX_LOCAL_INDEXES = 5


def table_problems(s: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    gsis, lsis = s["global_secondary_indexes"], s["local_secondary_indexes"]
    if len(gsis) > MAX_GLOBAL_INDEXES:
        problems.append(("global_secondary_indexes", f"at most {MAX_GLOBAL_INDEXES} per table"))
    if len(lsis) > MAX_LOCAL_INDEXES:
        problems.append(("local_secondary_indexes", f"at most {MAX_LOCAL_INDEXES} per table"))
    if lsis and not s["sort_key"]:
        problems.append(
            ("local_secondary_indexes", "local indexes need the table to have a sort key")
        )
    for at, index in enumerate(lsis):
        where = f"local_secondary_indexes.{at}"
        if not index["sort_key"]:
            problems.append((f"{where}.sort_key", "a local index needs a sort key"))
        if (index["partition_key"], index["partition_key_type"]) != (
            s["partition_key"],
            s["partition_key_type"],
        ):
            problems.append(
                (
                    f"{where}.partition_key",
                    f"a local index has the table's partition key "
                    f"({s['partition_key']}, {s['partition_key_type']})",
                )
            )
    seen: set[str] = set()
    for group in ("global_secondary_indexes", "local_secondary_indexes"):
        for at, index in enumerate(s[group]):
            if index["name"] in seen:
                problems.append((f"{group}.{at}.name", "another index of the table has this name"))
            seen.add(index["name"])
    return problems + _key_type_problems(s)


def _key_type_problems(s: Mapping[str, Any]) -> list[Problem]:
    """DynamoDB defines each key attribute once, with one type, for the table and its indexes."""
    keys: list[tuple[str, str, str]] = [
        ("partition_key_type", s["partition_key"], s["partition_key_type"]),
        ("sort_key_type", s["sort_key"], s["sort_key_type"]),
    ]
    for group in ("global_secondary_indexes", "local_secondary_indexes"):
        for at, index in enumerate(s[group]):
            for part in ("partition_key", "sort_key"):
                keys.append((f"{group}.{at}.{part}_type", index[part], index[f"{part}_type"]))
    types: dict[str, str] = {}
    problems: list[Problem] = []
    for path, attribute, key_type in keys:
        if not attribute:
            continue
        known = types.setdefault(attribute, key_type)
        if known != key_type:
            problems.append((path, f"{attribute} is a key of type {known} elsewhere in this table"))
    return problems
