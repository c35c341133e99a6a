"""Inert descriptions of the AWS resources a blueprint needs.

A `ResourceSpec` says what one resource should look like. Values that another
resource only produces once it exists (an ARN, an id) are `Ref` placeholders;
`resolve` swaps them for the producer's outputs. Specs have no behaviour beyond
listing what they depend on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Ref:
    """A value produced by another resource: `outputs[attribute]` of `logical_id`."""

    logical_id: str
    attribute: str

    def __str__(self) -> str:
        return f"${{{self.logical_id}.{self.attribute}}}"


@dataclass(frozen=True)
class ResourceSpec:
    logical_id: str
    """Stable, unique within a stage: "agent/support/function"."""
    resource_type: str
    """A key of the provisioner registry: "lambda:function"."""
    properties: Mapping[str, Any]
    """JSON-like values; any of them may be (or contain) a `Ref`."""
    node: str | None = None
    """The blueprint node this resource comes from ("agent:support"), for the canvas."""
    depends_on: tuple[str, ...] = field(default=())
    """Ordering dependencies that no `Ref` expresses."""

    def dependencies(self) -> frozenset[str]:
        return frozenset(ref.logical_id for ref in iter_refs(self.properties)) | frozenset(
            self.depends_on
        )


@dataclass(frozen=True)
class Join:
    """A string made of literal parts and `Ref`s, e.g. an execute-api source ARN."""

    parts: tuple[str | Ref | Join, ...]

    def __str__(self) -> str:
        return "".join(str(part) for part in self.parts)


class UnresolvedRef(LookupError):
    """A `Ref` whose producer has no outputs yet (it is still to be created)."""


def iter_refs(value: Any) -> list[Ref]:
    found: list[Ref] = []
    _collect_refs(value, found)
    return found


def _collect_refs(value: Any, found: list[Ref]) -> None:
    if isinstance(value, Ref):
        found.append(value)
    elif isinstance(value, Join):
        _collect_refs(value.parts, found)
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect_refs(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_refs(item, found)


def resolve(value: Any, outputs: Mapping[str, Mapping[str, Any]], *, partial: bool = False) -> Any:
    """Replace every `Ref` with the producer's output.

    With `partial=True` a `Ref` whose producer has no outputs yet is left in
    place ("known after apply"); otherwise it raises `UnresolvedRef`.
    """
    if isinstance(value, Ref):
        produced = outputs.get(value.logical_id)
        if produced is None or value.attribute not in produced:
            if partial:
                return value
            raise UnresolvedRef(str(value))
        return produced[value.attribute]
    if isinstance(value, Join):
        parts = [resolve(part, outputs, partial=partial) for part in value.parts]
        if any(isinstance(part, Ref) for part in parts):
            return Join(tuple(parts))
        return "".join(str(part) for part in parts)
    if isinstance(value, Mapping):
        return {key: resolve(item, outputs, partial=partial) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(item, outputs, partial=partial) for item in value]
    return value


def has_unresolved(value: Any) -> bool:
    return bool(iter_refs(value))


def to_jsonable(value: Any) -> Any:
    """Plain JSON data: refs become their "${id.attr}" text (for plans, pages, hashes)."""
    if isinstance(value, Ref | Join):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    return value


def properties_hash(properties: Mapping[str, Any]) -> str:
    canonical = json.dumps(to_jsonable(properties), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
