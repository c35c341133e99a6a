"""IAM policy documents the graph writes: trust, Bedrock model access, logs, link grants.

Statements may hold `Ref`/`Join` values (ARNs known only after their resource
exists); they are resolved before the role is provisioned.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from provisioning.model.spec import Join, Ref

_GEO_PREFIXES = ("global.", "us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.")


def trust_policy(service: str) -> dict[str, Any]:
    return policy_document(
        [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]
    )


def policy_document(statements: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def statement(actions: Iterable[str], resources: Iterable[Any]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": sorted(set(actions)), "Resource": list(resources)}


def base_model_id(model_id: str) -> str:
    """The foundation model behind an inference profile id ("us.anthropic.x" -> "anthropic.x")."""
    for prefix in _GEO_PREFIXES:
        if model_id.startswith(prefix):
            return model_id[len(prefix) :]
    return model_id


def bedrock_statements(
    model_id: str, *, region: Ref | str, account: Ref | str, partition: Ref | str
) -> list[dict[str, Any]]:
    """InvokeModel on exactly this model's ARNs: the foundation model in every region a
    cross-region profile may route to, and the inference profile itself when it is one."""
    actions = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    if model_id.startswith("arn:"):
        # An application inference profile (or provisioned model) ARN: the profile itself,
        # and the foundation models behind it, which its ARN does not name.
        foundation = Join(("arn:", partition, ":bedrock:*::foundation-model/*"))
        return [statement(actions, [model_id, foundation])]
    base = base_model_id(model_id)
    resources: list[Any] = [Join(("arn:", partition, f":bedrock:*::foundation-model/{base}"))]
    if base != model_id:
        resources.append(
            Join(
                (
                    "arn:",
                    partition,
                    ":bedrock:",
                    region,
                    ":",
                    account,
                    f":inference-profile/{model_id}",
                )
            )
        )
    return [statement(actions, resources)]


def log_statements(
    log_group: str, *, region: Ref | str, account: Ref | str, partition: Ref | str
) -> list[dict[str, Any]]:
    arn = Join(("arn:", partition, ":logs:", region, ":", account, f":log-group:{log_group}"))
    return [
        statement(["logs:CreateLogStream", "logs:PutLogEvents"], [Join((arn, ":log-stream:*"))])
    ]


POLICY_VERSION = "2012-10-17"


INLINE_POLICY_LIMIT = 10240


VPC_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:UnassignPrivateIpAddresses",
)


def allow_statement(actions: Iterable[str], resources: Iterable[str]) -> dict[str, Any]:
    """One Allow statement; "*" is dropped where named resources narrow it."""
    wanted = set(resources)
    if len(wanted) > 1:
        wanted.discard("*")
    if not wanted:
        raise ValueError(f"no resources for {sorted(actions)}")
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": sorted(wanted)}


def build_shared_execution_role_policy(policies: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One document for a role several agents share: statements merged and deduplicated.

    Plain Allow statements with the same actions are merged; anything with a
    condition, a Deny or NotAction is kept as written (once). Merging never changes what
    is allowed: a `*` resource (a grant a user confirmed) stays, alone, as it covers the rest.
    """
    grouped: dict[tuple[str, ...], set[str]] = {}
    kept: list[dict[str, Any]] = []
    for policy in policies:
        for statement in _statements(policy):
            if is_plain_allow(statement):
                actions = tuple(sorted(set(_as_list(statement["Action"]))))
                grouped.setdefault(actions, set()).update(_as_list(statement["Resource"]))
            elif statement not in kept:
                kept.append(dict(statement))
    merged = [
        allow_statement(actions, {"*"} if "*" in resources else resources)
        for actions, resources in sorted(grouped.items())
    ]
    return {"Version": POLICY_VERSION, "Statement": merged + kept}


def add_vpc_execution_permissions(policy: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `policy` that also lets Lambda manage its ENIs in a VPC.

    These EC2 actions accept no resource ARN, so "*" is the only choice.
    """
    statements = [dict(s) for s in _statements(policy)]
    vpc = {"Effect": "Allow", "Action": list(VPC_ACTIONS), "Resource": ["*"]}
    if vpc not in statements:
        statements.append(vpc)
    return {"Version": policy.get("Version", POLICY_VERSION), "Statement": statements}


def split_policy(
    document: Mapping[str, Any], limit: int = INLINE_POLICY_LIMIT
) -> list[dict[str, Any]]:
    """Pack the statements into as few documents as fit `limit` characters each."""
    version = document.get("Version", POLICY_VERSION)
    parts: list[list[dict[str, Any]]] = [[]]
    for statement in _statements(document):
        if _size({"Version": version, "Statement": [statement]}) > limit:
            raise ValueError(f"one statement alone exceeds {limit} characters")
        if _size({"Version": version, "Statement": [*parts[-1], statement]}) > limit:
            parts.append([])
        parts[-1].append(dict(statement))
    return [{"Version": version, "Statement": part} for part in parts]


def _size(document: Mapping[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _as_list(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def is_plain_allow(statement: Mapping[str, Any]) -> bool:
    """An Allow of actions on resources, nothing else: safe to merge with others."""
    return (
        statement.get("Effect") == "Allow"
        and "Action" in statement
        and "Resource" in statement
        and set(statement) <= {"Effect", "Action", "Resource", "Sid"}
    )


MANAGED_POLICY_LIMIT = 6144
