"""Components (bucket, table, queue, topic, HTTP API) -> the AWS resources they are.

Each kind has a spec builder and a validator; settings the user did not give
take secure, inexpensive defaults.
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
    kms = s.get("kms_key_id") or None
    return [
        ResourceSpec(
            f"bucket/{c.name}",
            "s3:bucket",
            {
                "name": global_name(name(c.name, kind="s3", lowercase=True)),
                "versioning": bool(s.get("versioning", False)),
                "encryption": {"algorithm": "aws:kms" if kms else "AES256", "kms_key_id": kms},
                "block_public_access": True,
            },
            node=c.key,
        )
    ]


def _table(c: Component, name: Namer) -> list[ResourceSpec]:
    s = c.settings
    provisioned = s.get("billing_mode") == "PROVISIONED"
    sort_key = s.get("sort_key") or None
    return [
        ResourceSpec(
            f"table/{c.name}",
            "dynamodb:table",
            {
                "name": name(c.name, kind="dynamodb"),
                "billing_mode": "PROVISIONED" if provisioned else "PAY_PER_REQUEST",
                "read_capacity": int(s.get("read_capacity", 5)) if provisioned else None,
                "write_capacity": int(s.get("write_capacity", 5)) if provisioned else None,
                "partition_key": {"name": s.get("partition_key") or "pk", "type": "S"},
                "sort_key": {"name": sort_key, "type": "S"} if sort_key else None,
                "stream_view_type": s.get("stream_view_type") or None,
                "global_secondary_indexes": list(s.get("global_secondary_indexes", [])),
                "point_in_time_recovery": bool(s.get("point_in_time_recovery", False)),
            },
            node=c.key,
        )
    ]


def _queue_props(name: str, s: Mapping[str, Any], fifo: bool) -> dict[str, Any]:
    return {
        "name": name,
        "fifo": fifo,
        "content_based_deduplication": bool(s.get("content_based_deduplication", False)) and fifo,
        "visibility_timeout_s": int(s.get("visibility_timeout_s", 30)),
        "message_retention_s": int(s.get("message_retention_s", 345600)),
        "receive_wait_time_s": int(s.get("receive_wait_time_s", 20)),
        "delay_s": int(s.get("delay_s", 0)),
        "dead_letter": None,
        "kms_master_key_id": s.get("kms_master_key_id") or None,
    }


def _queue(c: Component, name: Namer) -> list[ResourceSpec]:
    s = c.settings
    fifo = bool(s.get("fifo", False))
    kind = "sqs_fifo" if fifo else "sqs"
    main = _queue_props(name(c.name, kind=kind), s, fifo)
    specs = []
    if s.get("dead_letter"):
        dlq_id = f"queue/{c.name}/dlq"
        dlq = _queue_props(name(c.name, "dlq", kind=kind), {}, fifo)
        # Keep failures the longest SQS allows.
        dlq["message_retention_s"] = bounds.COMPONENT["queue"]["message_retention_s"].high
        specs.append(ResourceSpec(dlq_id, "sqs:queue", dlq, node=c.key))
        main["dead_letter"] = {
            "target_arn": Ref(dlq_id, "arn"),
            "max_receive_count": int(s.get("max_receive_count", 5)),
        }
    specs.insert(0, ResourceSpec(f"queue/{c.name}", "sqs:queue", main, node=c.key))
    return specs


def _topic(c: Component, name: Namer) -> list[ResourceSpec]:
    s = c.settings
    fifo = bool(s.get("fifo", False))
    base = name(c.name, kind="sns_fifo" if fifo else "sns")
    return [
        ResourceSpec(
            f"topic/{c.name}",
            "sns:topic",
            {
                "name": base,
                "fifo": fifo,
                "content_based_deduplication": bool(s.get("content_based_deduplication", False))
                and fifo,
                "kms_master_key_id": s.get("kms_master_key_id") or None,
                "display_name": str(s.get("display_name", ""))[:100],
            },
            node=c.key,
        )
    ]


def _http_api(c: Component, name: Namer) -> list[ResourceSpec]:
    origins = list(c.settings.get("cors_origins", []))
    cors = (
        {
            "allow_origins": origins,
            "allow_methods": ["GET", "OPTIONS", "POST"],
            "allow_headers": ["authorization", "content-type"],
            "max_age": 300,
        }
        if origins
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
            {"api_id": Ref(api, "api_id"), "name": "$default", "auto_deploy": True},
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


def _int_between(s: Mapping[str, Any], field: str, bound: bounds.Bound) -> list[Problem]:
    if field not in s or s[field] in ("", None):
        return []
    try:
        value = int(s[field])
    except (TypeError, ValueError):
        return [(field, "must be a whole number")]
    problem = bound.problem(value)
    return [(field, problem)] if problem else []


def validate_component(component: Component) -> list[Problem]:
    if component.kind not in _BUILDERS:
        return [("kind", f"unknown component kind {component.kind!r}")]
    s = component.settings
    problems: list[Problem] = []
    for field, bound in bounds.COMPONENT.get(component.kind, {}).items():
        problems += _int_between(s, field, bound)
    billing = s.get("billing_mode", "PAY_PER_REQUEST")
    if component.kind == "table" and billing not in ("PAY_PER_REQUEST", "PROVISIONED"):
        problems.append(("billing_mode", "must be PAY_PER_REQUEST or PROVISIONED"))
    return problems
