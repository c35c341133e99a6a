"""API keys of an HTTP API whose auth mode is `api_key`: issue, list, revoke, rotate.

A key is `sdk_` and 32 URL-safe random characters. It is shown once, when made; what is
kept is its SHA-256 hex hash, in the component's sealed `api_key_hashes` setting as a JSON
list - the format the engine's authorizer reads from the parameter a deploy writes. Beside
it, `api_key_labels` (not secret) says for each hash, by its first digits, what the key is
for and when it was made. A key starts or stops working at the next deploy of the stage.
"""

from __future__ import annotations

import hashlib
import json
import secrets as random
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from dashboard.access import secrets
from dashboard.access.roles import User
from dashboard.errors import ServiceError
from dashboard.projects import services as project_services
from dashboard.projects.models import Component

KEY_PREFIX = "sdk_"
RANDOM_CHARS = 32
ID_DIGITS = 12
SHOWN_PREFIX = len(KEY_PREFIX) + 4
MAX_KEYS = 50
"""The parameter holding the hashes is a standard SSM parameter (4 KB): 50 hashes fit."""


@dataclass(frozen=True)
class ApiKey:
    """An issued key as the page lists it: never the key, only how to recognise it."""

    id: str
    prefix: str
    label: str
    created_at: str


@dataclass(frozen=True)
class IssuedKey:
    key: str
    """The key in clear: this value is the only time anyone sees it."""
    entry: ApiKey


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_key_list(*, component: Component) -> list[ApiKey]:
    """Every accepted key, newest first; a hash typed in by hand shows as unlabelled."""
    labels = {entry["id"]: entry for entry in _labels(component)}
    keys = []
    for digest in _hashes(component):
        entry = labels.get(digest[:ID_DIGITS], {})
        keys.append(
            ApiKey(
                id=digest[:ID_DIGITS],
                prefix=str(entry.get("prefix") or ""),
                label=str(entry.get("label") or "added by hand"),
                created_at=str(entry.get("created_at") or ""),
            )
        )
    return sorted(keys, key=lambda k: k.created_at, reverse=True)


def api_key_create(*, component: Component, user: User | None, label: str = "") -> IssuedKey:
    """A new key for the API; refused unless its auth mode is api_key."""
    _require_api_key_mode(component)
    hashes = _hashes(component)
    if len(hashes) >= MAX_KEYS:
        raise ServiceError(f"an API holds at most {MAX_KEYS} keys: revoke one first")
    key = KEY_PREFIX + _random_chars(RANDOM_CHARS)
    secrets.remember(key)  # blanked out of any log line it might reach
    digest = key_hash(key)
    entry = ApiKey(
        id=digest[:ID_DIGITS],
        prefix=key[:SHOWN_PREFIX],
        label=label.strip()[:64],
        created_at=timezone.now().isoformat(timespec="seconds"),
    )
    labels = [*_labels(component), entry.__dict__]
    _store(component, user, [*hashes, digest], labels)
    return IssuedKey(key=key, entry=entry)


def api_key_revoke(*, component: Component, user: User | None, key_id: str) -> ApiKey:
    """Stop accepting the key whose hash starts with `key_id` (from the next deploy on)."""
    hashes = _hashes(component)
    kept = [h for h in hashes if not h.startswith(key_id)] if key_id else hashes
    if len(kept) == len(hashes):
        raise ServiceError(f"{component.name} has no key {key_id!r} (already revoked?)")
    gone = next(k for k in api_key_list(component=component) if k.id == key_id)
    labels = [entry for entry in _labels(component) if entry["id"] != key_id]
    _store(component, user, kept, labels)
    return gone


def api_key_rotate(*, component: Component, user: User | None, key_id: str) -> IssuedKey:
    """A new key in place of `key_id`; the old one stays until its callers switched and it is
    revoked, so rotating never locks a caller out."""
    old = next((k for k in api_key_list(component=component) if k.id == key_id), None)
    if old is None:
        raise ServiceError(f"{component.name} has no key {key_id!r} (already revoked?)")
    return api_key_create(component=component, user=user, label=f"{old.label} (rotated)")


def _random_chars(n: int) -> str:
    # token_urlsafe gives ~1.3 characters a byte; cut to exactly n.
    return random.token_urlsafe(n)[:n]


def _require_api_key_mode(component: Component) -> None:
    if component.kind != Component.Kind.HTTP_API:
        raise ServiceError(f"{component.name} is not an HTTP API: only those take API keys")
    if (component.settings or {}).get("auth") != "api_key":
        raise ServiceError(
            f"{component.name} authenticates with {component.settings.get('auth') or 'iam'}: "
            "set Authentication to api_key and save first",
            field="auth",
        )


def _hashes(component: Component) -> list[str]:
    sealed = str((component.settings or {}).get("api_key_hashes") or "")
    if not sealed:
        return []
    text = secrets.open_(sealed).strip()
    try:
        listed: Any = json.loads(text) if text.startswith("[") else None
    except ValueError:
        listed = None
    items = listed if isinstance(listed, list) else text.replace(",", "\n").splitlines()
    return [str(item).strip().lower() for item in items if str(item).strip()]


def _labels(component: Component) -> list[dict[str, Any]]:
    return [dict(entry) for entry in (component.settings or {}).get("api_key_labels") or []]


def _store(
    component: Component, user: User | None, hashes: list[str], labels: list[dict[str, Any]]
) -> None:
    """Through the component service: the same checks, sealing, edit rights and version."""
    project_services.component_update(
        component=component,
        user=user,
        name=component.name,
        settings={"api_key_hashes": json.dumps(hashes), "api_key_labels": labels},
    )
