"""Lambda REQUEST authorizer of an HTTP API whose auth mode is `api_key`, packaged by
Strands Deploy as `handler.py`.

A caller sends its key in the `x-api-key` header. Only the SHA-256 hashes (hex) of the
accepted keys are stored, in the SecureString parameter named by API_KEY_PARAMETER (a
JSON list, or one hash per line); a key is accepted when its hash is one of them. The
answer is API Gateway's simple response, `{"isAuthorized": true|false}`, which the API
caches per key for the authorizer's TTL.

No dependency beyond the Lambda runtime (boto3 is part of it), so the function stays small
and starts fast; the hashes are re-read at most every CACHE_S seconds, so a new or revoked
key takes effect within a few minutes without a deploy.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

PARAMETER_ENV = "API_KEY_PARAMETER"
HEADER = "x-api-key"
CACHE_S = 60.0

logger = logging.getLogger("strands_deploy.api_key_authorizer")
logger.setLevel(logging.INFO)

_hashes: frozenset[str] = frozenset()
_read_at: float | None = None
_ssm: Any = None


def parse_hashes(text: str) -> frozenset[str]:
    """The accepted hashes from the parameter's value: a JSON list or one per line."""
    text = text.strip()
    try:
        listed = json.loads(text) if text.startswith("[") else None
    except ValueError:
        listed = None
    items = listed if isinstance(listed, list) else text.replace(",", "\n").splitlines()
    return frozenset(str(item).strip().lower() for item in items if str(item).strip())


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def is_accepted(key: str, hashes: frozenset[str]) -> bool:
    """Compared in constant time against every hash, so timing tells nothing of a near miss."""
    digest = key_hash(key)
    matches = [hmac.compare_digest(digest, accepted) for accepted in sorted(hashes)]
    return any(matches)


def read_hashes(ssm: Any = None, now: Callable[[], float] = time.monotonic) -> frozenset[str]:
    """The accepted hashes, read from SSM at most every CACHE_S seconds."""
    global _hashes, _read_at, _ssm
    if _read_at is not None and now() - _read_at < CACHE_S:
        return _hashes
    if ssm is None:
        if _ssm is None:
            import boto3  # in every Lambda Python runtime

            _ssm = boto3.client("ssm")
        ssm = _ssm
    reply = ssm.get_parameter(Name=os.environ[PARAMETER_ENV], WithDecryption=True)
    _hashes, _read_at = parse_hashes(reply["Parameter"]["Value"]), now()
    return _hashes


def presented_key(event: Mapping[str, Any]) -> str:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return headers.get(HEADER, "").strip()


def handler(event: Any, context: Any = None, ssm: Any = None) -> dict[str, bool]:
    key = presented_key(event if isinstance(event, dict) else {})
    if not key:
        return {"isAuthorized": False}
    try:
        hashes = read_hashes(ssm)
    except Exception:
        # Refuse rather than let everyone in when the keys cannot be read.
        logger.exception("could not read the accepted API key hashes")
        return {"isAuthorized": False}
    return {"isAuthorized": is_accepted(key, hashes)}
