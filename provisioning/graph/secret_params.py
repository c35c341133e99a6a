"""Secret environment variables as SSM SecureStrings, and the policy guard rails.

An agent's secret `NAME` becomes a parameter `/strands-deploy/<project>/<stage>/<agent>/NAME`,
the function gets `STRANDS_SECRET_NAME=<parameter name>` (never the value), and its role
may read exactly that parameter: `ssm:GetParameter` on its ARN, and `kms:Decrypt` only
through SSM for that parameter (the encryption context names it).

`policy_problems` is the engine's last check that no generated policy allows a `*`
action: a graph that has one does not deploy (unless a user wrote and confirmed it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from provisioning.model.blueprint import Agent, Blueprint
from provisioning.model.secret_refs import value_version
from provisioning.model.spec import Join, Ref, ResourceSpec

ENV_PREFIX = "STRANDS_SECRET_"
"""The generated handler reads every `STRANDS_SECRET_<NAME>` at cold start into `NAME`."""
SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
Problem = tuple[str, str, str]


def parameter_name(blueprint: Blueprint, agent: Agent, variable: str) -> str:
    return f"/strands-deploy/{blueprint.project}/{blueprint.stage}/{agent.name}/{variable}"


def secret_specs(
    blueprint: Blueprint, agent: Agent, *, region: Any, account: Any, partition: Any
) -> tuple[list[ResourceSpec], list[dict[str, Any]], dict[str, Any], list[Problem]]:
    """(parameter specs, role statements, function environment, problems) for one agent."""
    specs: list[ResourceSpec] = []
    statements: list[dict[str, Any]] = []
    environment: dict[str, Any] = {}
    problems: list[Problem] = []
    key_id = blueprint.settings.get("secrets_kms_key_id") or None
    for variable, reference in sorted(agent.secrets.items()):
        if not SECRET_NAME.match(variable) or variable in agent.environment:
            problems.append((agent.key, "secret_environment", f"bad secret name {variable!r}"))
            continue
        logical_id = f"agent/{agent.name}/secret/{variable}"
        specs.append(
            ResourceSpec(
                logical_id,
                "ssm:parameter",
                {
                    "name": parameter_name(blueprint, agent, variable),
                    "description": f"Secret {variable} of agent {agent.name}",
                    "key_id": key_id,
                    "value_ref": reference,
                    "value_version": value_version(reference),
                },
                node=agent.key,
            )
        )
        statements += parameter_read_statements(
            Ref(logical_id, "arn"), key_id, region, account, partition
        )
        environment[ENV_PREFIX + variable] = Ref(logical_id, "name")
    return specs, statements, environment, problems


def parameter_read_statements(
    parameter_arn: Ref, key_id: str | None, region: Any, account: Any, partition: Any
) -> list[dict[str, Any]]:
    """What a role needs to read one SecureString: that parameter, decrypted through SSM."""
    return [
        {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": [parameter_arn]},
        _decrypt_statement(parameter_arn, key_id, region, account, partition),
    ]


def _decrypt_statement(
    parameter_arn: Ref, key_id: str | None, region: Any, account: Any, partition: Any
) -> dict[str, Any]:
    if key_id and str(key_id).startswith("arn:") and ":key/" in str(key_id):
        key: Any = key_id
    else:  # an alias or the aws/ssm key: its ARN is unknown here, the conditions pin it down
        key = Join(("arn:", partition, ":kms:", region, ":", account, ":key/*"))
    return {
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": [key],
        "Condition": {
            "StringEquals": {
                "kms:EncryptionContext:PARAMETER_ARN": parameter_arn,
                "kms:ViaService": Join(("ssm.", region, ".amazonaws.com")),
            }
        },
    }


# --- no wildcard actions ---------------------------------------------------------------------
def policy_problems(
    specs: Mapping[str, ResourceSpec], confirmed: frozenset[str] = frozenset()
) -> list[Problem]:
    """Every Allow statement in every spec's policy documents that grants a `*` action
    (or allows through NotAction, which is the same), as (node, field, message).

    `confirmed`: wildcard actions a user wrote and confirmed (an agent's extra statements
    with allow_broad_permissions); only those pass."""
    problems: list[Problem] = []
    for spec in specs.values():
        for statement in _statements(spec.properties):
            bad = _wildcards(statement, confirmed)
            if bad:
                problems.append(
                    (
                        spec.node or spec.logical_id,
                        "policy",
                        f"{spec.logical_id} would allow the wildcard action {bad}: "
                        "generated policies name every action",
                    )
                )
    return problems


def _statements(value: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        statement = value.get("Statement")
        if isinstance(statement, Mapping):
            yield statement
        elif isinstance(statement, list | tuple):
            yield from (s for s in statement if isinstance(s, Mapping))
        for key, item in value.items():
            if key != "Statement":
                yield from _statements(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _statements(item)


def _wildcards(statement: Mapping[str, Any], confirmed: frozenset[str]) -> str:
    if statement.get("Effect", "Allow") != "Allow":
        return ""
    if "NotAction" in statement:
        return "NotAction"
    actions = statement.get("Action", [])
    for action in [actions] if isinstance(actions, str) else list(actions):
        text = str(action)
        if ("*" in text or "?" in text) and text not in confirmed:  # "s3:Get*" is one too
            return text
    return ""
