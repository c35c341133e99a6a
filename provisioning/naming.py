"""Deterministic physical names: `<project>-<stage>-<name>`, shortened with a stable hash.

The same inputs always give the same name, so a retry after a crash finds what
the first attempt made instead of making a twin.
"""

from __future__ import annotations

import hashlib
import re

# Each service's limit on a name (the prefix and hash suffix must fit within it).
LIMITS = {
    "iam_role": 64,
    "iam_policy": 128,
    "lambda": 64,
    "log_group": 512,
    "s3": 63,
    "dynamodb": 255,
    "sqs": 80,
    "sns": 256,
    "apigw": 128,
    "ec2": 255,
}
_UNSAFE = re.compile(r"[^a-zA-Z0-9-]+")
_HASH_LEN = 6


def physical_name(project: str, stage: str, *parts: str, kind: str, lowercase: bool = False) -> str:
    limit = LIMITS[kind]
    full = "-".join([project, stage, *parts])
    name = _UNSAFE.sub("-", full).strip("-")
    if lowercase:
        name = name.lower()
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH_LEN]
    keep = limit - _HASH_LEN - 1
    return f"{name[:keep].rstrip('-')}-{digest}"


def short_hash(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]
