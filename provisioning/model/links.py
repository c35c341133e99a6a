"""Which links the canvas allows, and what each one grants an agent.

A link between two node kinds has one or more kinds (agent -> bucket may be
"read" or "read_write"); the first is the default. Access links give the agent
IAM actions on the linked resource and environment variables naming it.
"""

from __future__ import annotations

import re

# (source kind, target kind) -> allowed link kinds, the default first.
ALLOWED: dict[tuple[str, str], tuple[str, ...]] = {
    ("agent", "bucket"): ("read_write", "read", "sessions"),
    ("agent", "table"): ("read_write", "read"),
    ("agent", "queue"): ("send",),
    ("agent", "topic"): ("publish",),
    ("queue", "agent"): ("trigger",),
    ("topic", "queue"): ("subscribe",),
    ("topic", "agent"): ("subscribe",),
    ("http_api", "agent"): ("route",),
}

_S3_READ = ("s3:GetObject",)
_S3_WRITE = ("s3:PutObject", "s3:DeleteObject")
_DDB_READ = (
    "dynamodb:BatchGetItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
_DDB_WRITE = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
QUEUE_CONSUMER_ACTIONS = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
)


def split_key(key: str) -> tuple[str, str]:
    """A node key ("agent:support", "queue:jobs") as (kind, name): the one parser of keys."""
    kind, _, name = key.partition(":")
    return kind, name


def node_kind(key: str) -> str:
    return split_key(key)[0]


def node_name(key: str) -> str:
    return split_key(key)[1]


def allowed_kinds(source_key: str, target_key: str) -> tuple[str, ...]:
    """The link kinds that fit two nodes; empty when no link between them makes sense."""
    return ALLOWED.get((node_kind(source_key), node_kind(target_key)), ())


def link_problem(source_key: str, target_key: str, kind: str) -> str | None:
    """Why this link cannot exist, or None when it can."""
    if source_key == target_key:
        return "a node cannot link to itself"
    kinds = allowed_kinds(source_key, target_key)
    if not kinds:
        src, dst = node_kind(source_key), node_kind(target_key)
        return f"a {src.replace('_', ' ')} cannot link to a {dst.replace('_', ' ')}"
    if kind and kind not in kinds:
        return f"link kind must be one of: {', '.join(kinds)}"
    return None


def bucket_actions(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(object actions, bucket actions) for an agent -> bucket link."""
    objects = _S3_READ + (_S3_WRITE if kind == "read_write" else ())
    return objects, ("s3:ListBucket",)


def table_actions(kind: str) -> tuple[str, ...]:
    return _DDB_READ + (_DDB_WRITE if kind == "read_write" else ())


def env_name(*parts: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", "_".join(parts).upper()).strip("_")
