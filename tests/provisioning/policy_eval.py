"""Just enough IAM policy evaluation for the tests to ask "may this role do that?" of a
policy read back from AWS (moto stores policies but does not evaluate them)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote

from provisioning.aws import AwsContext


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, wanted in tests.items():
            have = context.get(key)
            if have is None:
                return False
            if operator in ("ArnEquals", "StringEquals") and have not in _listed(wanted):
                return False
            if operator in ("ArnLike", "StringLike") and not any(
                fnmatchcase(have, w) for w in _listed(wanted)
            ):
                return False
    return True


def allows(
    documents: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> bool:
    """Whether an Allow statement of `documents` grants `action` on `resource` (no Deny is
    ever written by the engine); `context` holds condition keys such as
    lambda:SourceFunctionArn."""
    for document in documents:
        for statement in _listed_statements(document):
            if statement.get("Effect") != "Allow":
                continue
            if not any(fnmatchcase(action, a) for a in _listed(statement["Action"])):
                continue
            if not any(fnmatchcase(resource, r) for r in _listed(statement["Resource"])):
                continue
            if _condition_holds(statement.get("Condition") or {}, context or {}):
                return True
    return False


def _listed_statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = document["Statement"]
    return [found] if isinstance(found, Mapping) else list(found)


def role_documents(aws: AwsContext, role_name: str) -> list[dict[str, Any]]:
    """Every inline and attached policy document of a role, as AWS holds it."""
    iam = aws.client("iam")
    documents = []
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        documents.append(_parsed(document))
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
        )
        documents.append(_parsed(version["PolicyVersion"]["Document"]))
    return documents


def _parsed(document: Any) -> dict[str, Any]:
    if isinstance(document, str):
        return dict(json.loads(unquote(document)))
    return dict(document)


def function_role(aws: AwsContext, function_name: str) -> str:
    arn = aws.client("lambda").get_function_configuration(FunctionName=function_name)["Role"]
    return str(arn.rsplit("/", 1)[-1])
