"""What identifies a secret's value without holding it: a version derived from the sealed reference."""

from __future__ import annotations

import hashlib


def value_version(reference: str) -> str:
    return hashlib.sha256(reference.encode()).hexdigest()[:16]
