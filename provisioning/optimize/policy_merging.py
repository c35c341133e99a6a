"""Policy arithmetic for the optimizer: permission atoms, merging and sizing.

Statements in the graph still hold `Ref`/`Join` values (ARNs known only after
apply). Merging works on their "${id.attr}" text and swaps the values back;
sizing stands each unresolved value in with the longest it can be once real
(the ARN's shape for its resource type, the physical name the graph already
knows, a 12-digit account), so a policy that fits here fits in AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from provisioning.model.policy_documents import (
    build_shared_execution_role_policy,
    is_plain_allow,
    split_policy,
)
from provisioning.model.spec import Join, Ref, to_jsonable

Atom = tuple[str, str]
"""One (action, resource) pair a plain Allow statement grants; resource as "${id.attr}" text."""

# An ARN is "arn:<partition>:<service>:<region>:<account>:<prefix><name>"; per resource type,
# the service and the prefix before the name (S3 ARNs carry no region or account).
_ARN_SHAPES = {
    "s3:bucket": ("s3", "", False),
    "dynamodb:table": ("dynamodb", "table/", True),
    "sqs:queue": ("sqs", "", True),
    "sns:topic": ("sns", "", True),
    "lambda:function": ("lambda", "function:", True),
    "logs:log-group": ("logs", "log-group:", True),
    "iam:role": ("iam", "role/", False),
}
_LONGEST_PARTITION, _LONGEST_REGION, _ACCOUNT = 10, 16, 12
_UNKNOWN_LENGTH = 2048
"""IAM's own bound on an ARN, for a value we know nothing about."""


@dataclass(frozen=True)
class Lengths:
    """How long unresolved values can get once real: from the stage's region when known."""

    names: Mapping[str, tuple[str, str]]
    """logical id -> (resource type, physical name)."""
    region: str = ""

    @property
    def partition(self) -> int:
        if not self.region:
            return _LONGEST_PARTITION
        return len(partition_of(self.region))

    def of(self, ref: Ref) -> int:
        pseudo = {"partition": self.partition, "region": len(self.region) or _LONGEST_REGION}
        if ref.attribute in pseudo:
            return pseudo[ref.attribute]
        if ref.attribute == "account_id":
            return _ACCOUNT
        kind, name = self.names.get(ref.logical_id, ("", ""))
        if ref.attribute == "name" and name:
            return len(name)
        if ref.attribute == "arn" and kind in _ARN_SHAPES and name:
            service, prefix, regional = _ARN_SHAPES[kind]
            where = (len(self.region) or _LONGEST_REGION) + _ACCOUNT if regional else 0
            return 4 + self.partition + 1 + len(service) + 1 + where + 2 + len(prefix) + len(name)
        return _UNKNOWN_LENGTH


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = policy.get("Statement", [])
    return [found] if isinstance(found, Mapping) else list(found)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _key(value: Any) -> str:
    return value if isinstance(value, str) else str(to_jsonable(value))


def grants(policies: Iterable[Mapping[str, Any]]) -> tuple[frozenset[Atom], frozenset[str]]:
    """What the policies allow: plain-Allow atoms, and every other statement as JSON text.

    Two policies with equal grants allow exactly the same, however they group statements.
    """
    atoms: set[Atom] = set()
    other: set[str] = set()
    for policy in policies:
        for statement in statements(policy):
            if not is_plain_allow(statement):
                other.add(json.dumps(to_jsonable(statement), sort_keys=True))
                continue
            resources = [_key(r) for r in _as_list(statement["Resource"])]
            for action in _as_list(statement["Action"]):
                atoms.update((action, resource) for resource in resources)
    return frozenset(atoms), frozenset(other)


def without(policy: Mapping[str, Any], atoms: frozenset[Atom]) -> dict[str, Any]:
    """`policy` less the resources whose every (action, resource) of a plain Allow is in
    `atoms`; a statement left with no resource goes."""
    kept: list[Mapping[str, Any]] = []
    for statement in statements(policy):
        if not is_plain_allow(statement):
            kept.append(statement)
            continue
        actions = _as_list(statement["Action"])
        resources = [
            r
            for r in _as_list(statement["Resource"])
            if not all((action, _key(r)) in atoms for action in actions)
        ]
        if resources:
            kept.append({**statement, "Resource": resources})
    return {**policy, "Statement": kept}


def merge(policies: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One document: duplicates dropped, resources grouped under identical action sets.

    `build_shared_execution_role_policy` sorts resources, which `Ref`s cannot be: it
    works on their text and the values are put back afterwards.
    """
    originals: dict[str, Any] = {}
    keyed = []
    for policy in policies:
        rewritten = []
        for statement in statements(policy):
            if is_plain_allow(statement):
                resources = []
                for resource in _as_list(statement["Resource"]):
                    originals.setdefault(_key(resource), resource)
                    resources.append(_key(resource))
                statement = {**statement, "Resource": resources}
                statement.pop("Sid", None)  # a Sid names a statement that no longer exists alone
            rewritten.append(statement)
        keyed.append({"Statement": rewritten})
    merged = build_shared_execution_role_policy(keyed)
    for statement in merged["Statement"]:
        if is_plain_allow(statement):
            statement["Resource"] = [originals.get(r, r) for r in statement["Resource"]]
    return merged


def estimated(value: Any, lengths: Lengths) -> Any:
    """A JSON-able copy where each unresolved value is a string at least as long as it will be."""
    if isinstance(value, Ref):
        return "x" * lengths.of(value)
    if isinstance(value, Join):
        return "".join(estimated(part, lengths) for part in value.parts)
    if isinstance(value, Mapping):
        return {str(k): estimated(v, lengths) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [estimated(v, lengths) for v in value]
    return value


def size(document: Mapping[str, Any], lengths: Lengths) -> int:
    """Characters IAM counts (whitespace is not counted), with conservative ARN lengths."""
    return len(json.dumps(estimated(document, lengths), separators=(",", ":")))


def size_bound(document: Mapping[str, Any], lengths: Lengths) -> int:
    """An upper bound of `size`, without building the estimated copy (most roles are far
    below the limit, and the optimizer must stay fast at hundreds of agents)."""
    return _bound(document, lengths)


def _bound(value: Any, lengths: Lengths) -> int:
    # A string's JSON form is its length plus quotes, escapes at most doubling it.
    kind = type(value)
    if kind is str:
        return 2 * len(value) + 2
    if kind is Join:
        return sum(_bound(part, lengths) for part in value.parts)
    if kind is Ref:
        return lengths.of(value) + 2
    if kind is list or kind is tuple:
        return 2 + sum(_bound(item, lengths) + 1 for item in value)
    if isinstance(value, Mapping):
        return 2 + sum(2 * len(k) + 4 + _bound(v, lengths) for k, v in value.items())
    return len(json.dumps(value))


def pack(
    document: Mapping[str, Any], lengths: Lengths, inline_limit: int, managed_limit: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The statements that fit the inline limit, and the rest packed into managed-policy
    documents of at most `managed_limit` characters each (statements keep their `Ref`s)."""
    version = document.get("Version", "2012-10-17")
    pieces = [
        part
        for statement in statements(document)
        for part in _chunks(statement, lengths, managed_limit)
    ]
    inline: list[Mapping[str, Any]] = []
    rest: list[Mapping[str, Any]] = []
    for piece in pieces:
        trial = {"Version": version, "Statement": [*inline, piece]}
        if not rest and size(trial, lengths) <= inline_limit:
            inline.append(piece)
        else:
            rest.append(piece)
    managed: list[dict[str, Any]] = []
    if rest:
        # split_policy packs in order, so its part sizes map back onto `rest` one to one.
        parts = split_policy(
            estimated({"Version": version, "Statement": rest}, lengths), managed_limit
        )
        start = 0
        for part in parts:
            count = len(part["Statement"])
            managed.append({"Version": version, "Statement": list(rest[start : start + count])})
            start += count
    return {"Version": version, "Statement": list(inline)}, managed


def _chunks(statement: Mapping[str, Any], lengths: Lengths, limit: int) -> list[Mapping[str, Any]]:
    """A statement too long for one policy, cut into several with the same actions."""
    document = {"Version": "2012-10-17", "Statement": [statement]}
    if not is_plain_allow(statement) or size(document, lengths) <= limit:
        return [statement]
    chunks: list[dict[str, Any]] = []
    for resource in _as_list(statement["Resource"]):
        if chunks:
            trial = {**chunks[-1], "Resource": [*chunks[-1]["Resource"], resource]}
            if size({"Version": "2012-10-17", "Statement": [trial]}, lengths) <= limit:
                chunks[-1] = trial
                continue
        chunks.append({**statement, "Resource": [resource]})
    return list(chunks)
