"""Deterministic physical names: `<project>-<stage>-<name>-<identity hash>`.

The same inputs always give the same name, so a retry after a crash finds what
the first attempt made instead of making a twin. Different inputs never give the
same name: the readable part joins project, stage and parts with `-`, which names
may also hold (`hotel` + `dev-bot` reads like `hotel-dev` + `bot`), so every name
ends with a hash of the exact parts, encoded so that no two lists of parts share
an encoding. Names too long for a service lose readable characters, never the hash.

Bucket names are global across every AWS account, so buckets also end with a
suffix derived from the account, project and stage (`ACCOUNT_SUFFIX`, resolved at
plan time like any other `Ref` and recorded in state as part of the bucket's name).
"""

from __future__ import annotations

import hashlib
import json
import re

from provisioning.model.spec import Join, Ref

# Each service's limit on a name (the readable prefix and hashes must fit within it).
LIMITS = {
    "iam_role": 64,
    "iam_policy": 128,
    "lambda": 64,
    "log_group": 512,
    "s3": 63,
    "dynamodb": 255,
    "sqs": 80,
    "sqs_fifo": 80,
    "sns": 256,
    "sns_fifo": 256,
    "apigw": 128,
    "cloudwatch_alarm": 255,
    "ec2": 255,
}
SUFFIXES = {"sqs_fifo": ".fifo", "sns_fifo": ".fifo"}
"""What a kind's names must end with; the limit above counts it."""
_UNSAFE = re.compile(r"[^a-zA-Z0-9-]+")
IDENTITY_HASH_LEN = 8
"""Hex digits of the identity hash: 2^32 values, so a collision between two names of one
account needs tens of thousands of resources sharing a readable prefix."""
ACCOUNT_SUFFIX_LEN = 6

AWS = "@aws"
"""Pseudo resource whose outputs are the account id, region, partition and name suffix."""
ACCOUNT_SUFFIX = Ref(AWS, "name_suffix")
GLOBAL_KINDS = frozenset({"s3"})
"""Services whose names are unique across all accounts: they get `ACCOUNT_SUFFIX` too."""

RESERVED_NAMES: dict[str, str] = {
    "alarms": "the stage's alarm topic",
    "artifacts": "the stage's artifacts bucket",
    "deps": "the stage's dependency layers",
    "exec": "the stage's shared execution roles",
}
"""Node names the stage's own resources use, so no agent or component may take them."""


def identity_hash(project: str, stage: str, *parts: str) -> str:
    """A hash of the exact (project, stage, parts): JSON keeps the list boundaries, so
    ("a-b", "c") and ("a", "b-c") hash differently."""
    encoded = json.dumps([project, stage, *parts])
    return hashlib.sha256(encoded.encode()).hexdigest()[:IDENTITY_HASH_LEN]


def physical_name(project: str, stage: str, *parts: str, kind: str, lowercase: bool = False) -> str:
    """The name of one resource: readable, within `kind`'s limit, unique per input.

    FIFO queues and topics end with `.fifo` (`SUFFIXES`), inside the limit. For
    `GLOBAL_KINDS` this is the name without its account suffix: `global_name` adds it.
    """
    suffix = SUFFIXES.get(kind, "")
    limit = LIMITS[kind] - len(suffix) - (ACCOUNT_SUFFIX_LEN + 1 if kind in GLOBAL_KINDS else 0)
    digest = identity_hash(project, stage, *parts)
    readable = _UNSAFE.sub("-", "-".join([project, stage, *parts])).strip("-")
    if lowercase:
        readable = readable.lower()
    keep = limit - len(digest) - 1
    readable = readable[:keep].rstrip("-")
    return (f"{readable}-{digest}" if readable else digest) + suffix


def global_name(base: str) -> Join:
    """A globally unique name: `base` plus the account suffix, known once the account is."""
    return Join((base, "-", ACCOUNT_SUFFIX))


def account_suffix(account_id: str, project: str, stage: str) -> str:
    """Stable for one stage in one account: the same bucket name on every run."""
    return short_hash(json.dumps([account_id, project, stage]), ACCOUNT_SUFFIX_LEN)


def reserved_name_problem(name: str) -> str | None:
    """Why a node may not be called `name`, or None when it may."""
    use = RESERVED_NAMES.get(name.lower())
    if use is None:
        return None
    return f"the name {name!r} is reserved for {use}; choose another name"


def short_hash(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]
