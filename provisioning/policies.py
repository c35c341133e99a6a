"""IAM policy documents the graph writes: trust, Bedrock model access, logs, link grants.

Statements may hold `Ref`/`Join` values (ARNs known only after their resource
exists); they are resolved before the role is provisioned.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from provisioning.spec import Join, Ref

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
