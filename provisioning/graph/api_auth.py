"""Who may call an HTTP API's routes: the resources each auth mode needs, and what a route says.

iam      routes with AWS_IAM: callers sign with AWS credentials; nothing else to make.
jwt      one JWT authorizer (issuer, audience) that every route names.
api_key  a REQUEST authorizer backed by a small function of ours
         (strands/templates/api_key_authorizer.py) reading the accepted keys' hashes
         from a SecureString parameter, with its role, log group and invoke permission.
none     routes open to anyone (the advice warns).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provisioning.graph.components import Namer, jwt_problems
from provisioning.graph.secret_params import parameter_read_statements
from provisioning.model.blueprint import Component
from provisioning.model.policy_documents import log_statements, policy_document, trust_policy
from provisioning.model.secret_refs import value_version
from provisioning.model.spec import Join, Ref, ResourceSpec
from provisioning.strands import packaging

ROUTE_AUTHORIZATION = {"iam": "AWS_IAM", "jwt": "JWT", "api_key": "CUSTOM", "none": "NONE"}
API_KEY_HEADER = "x-api-key"
AUTHORIZER_TEMPLATE = packaging.HANDLER_TEMPLATE.with_name("api_key_authorizer.py")
NO_KEYS = "[]"
"""What the key parameter holds until keys are issued: no hash, so every key is refused."""
KEY_CACHE_S = 300
"""How long API Gateway reuses an answer for one key (the function itself re-reads the
parameter every minute): a revoked key stops working within five minutes."""


def authorizer_id(component: Component) -> str:
    return f"http_api/{component.name}/authorizer"


def route_authorization(component: Component) -> dict[str, Any]:
    """The authorization properties of every route of this API."""
    mode = str(component.settings.get("auth") or "none")
    kind = ROUTE_AUTHORIZATION[mode]
    with_authorizer = kind in ("JWT", "CUSTOM")
    return {
        "authorization_type": kind,
        "authorizer_id": Ref(authorizer_id(component), "authorizer_id")
        if with_authorizer
        else None,
    }


def auth_specs(
    component: Component,
    name: Namer,
    stage: Mapping[str, Any],
    *,
    project: str,
    stage_name: str,
    arn: Mapping[str, Any],
) -> list[ResourceSpec]:
    """`stage`: the stage's cleaned settings; `arn`: region, account and partition Refs."""
    mode = component.settings.get("auth")
    if mode == "jwt" and not jwt_problems(component.settings):
        return [_jwt_authorizer(component)]
    if mode == "api_key":
        return _api_key_authorizer(
            component,
            name,
            stage,
            parameter=_parameter_name(project, stage_name, component),
            arn=arn,
        )
    return []


def _api_ref(component: Component, attribute: str) -> Ref:
    return Ref(f"http_api/{component.name}/api", attribute)


def _jwt_authorizer(component: Component) -> ResourceSpec:
    s = component.settings
    return ResourceSpec(
        authorizer_id(component),
        "apigw:authorizer",
        {
            "api_id": _api_ref(component, "api_id"),
            "name": "jwt",
            "authorizer_type": "JWT",
            "identity_source": ["$request.header.Authorization"],
            "jwt": {"issuer": s["jwt_issuer"], "audience": list(s["jwt_audience"])},
        },
        node=component.key,
    )


def _parameter_name(project: str, stage: str, component: Component) -> str:
    return f"/strands-deploy/{project}/{stage}/http_api/{component.name}/api-key-hashes"


def _api_key_authorizer(
    component: Component,
    name: Namer,
    stage: Mapping[str, Any],
    *,
    parameter: str,
    arn: Mapping[str, Any],
) -> list[ResourceSpec]:
    base = f"http_api/{component.name}/api-key"
    function_name = name(component.name, "api-key", kind="lambda")
    log_group = f"/aws/lambda/{function_name}"
    reference = str(component.settings.get("api_key_hashes") or "")
    key_id = stage.get("secrets_kms_key_id") or None
    statements = parameter_read_statements(
        Ref(f"{base}/hashes", "arn"), key_id, arn["region"], arn["account"], arn["partition"]
    ) + log_statements(
        log_group, region=arn["region"], account=arn["account"], partition=arn["partition"]
    )
    recipe = {"kind": "inline", "files": {"handler.py": _template()}}
    node = component.key
    return [
        ResourceSpec(
            f"{base}/hashes",
            "ssm:parameter",
            {
                "name": parameter,
                "description": f"SHA-256 hashes of the API keys HTTP API {component.name} accepts",
                "key_id": key_id,
                "value_ref": reference,
                "value_version": value_version(reference) if reference else "none",
                "initial_value": NO_KEYS,
            },
            node=node,
        ),
        ResourceSpec(
            f"{base}/role",
            "iam:role",
            {
                "name": name(component.name, "api-key", kind="iam_role"),
                "description": f"Execution role of the API key check of {component.name}",
                "assume_role_policy": trust_policy("lambda.amazonaws.com"),
                "inline_policies": {"authorizer": policy_document(statements)},
                "managed_policy_arns": [],
                "permissions_boundary": stage.get("permissions_boundary") or None,
            },
            node=node,
        ),
        ResourceSpec(
            f"{base}/log-group",
            "logs:log-group",
            {"name": log_group, "retention_days": int(stage.get("log_retention_days") or 14)},
            node=node,
        ),
        ResourceSpec(
            f"{base}/function",
            "lambda:function",
            {
                "name": function_name,
                "role_arn": Ref(f"{base}/role", "arn"),
                "runtime": "python3.12",
                "handler": packaging.HANDLER,
                "architecture": "arm64",
                "memory_mb": 128,
                "timeout_s": 5,
                "environment": {"API_KEY_PARAMETER": Ref(f"{base}/hashes", "name")},
                "reserved_concurrency": None,
                "tracing": "PassThrough",
                "layers": [],
                "code": recipe,
                "code_sha256": packaging.code_sha256(packaging.package_code(recipe)),
                "layer_sizes": [],
                "vpc": None,
            },
            node=node,
            depends_on=(f"{base}/log-group",),
        ),
        ResourceSpec(
            authorizer_id(component),
            "apigw:authorizer",
            {
                "api_id": _api_ref(component, "api_id"),
                "name": "api-key",
                "authorizer_type": "REQUEST",
                "identity_source": [f"$request.header.{API_KEY_HEADER}"],
                "function_arn": Ref(f"{base}/function", "arn"),
                "result_ttl_s": KEY_CACHE_S,
            },
            node=node,
        ),
        ResourceSpec(
            f"{base}/permission",
            "lambda:permission",
            {
                "function_name": Ref(f"{base}/function", "name"),
                "statement_id": "apigw-authorizer",
                "action": "lambda:InvokeFunction",
                "principal": "apigateway.amazonaws.com",
                "source_arn": Join(
                    (
                        _api_ref(component, "execution_arn"),
                        "/authorizers/",
                        Ref(authorizer_id(component), "authorizer_id"),
                    )
                ),
            },
            node=node,
        ),
    ]


def _template() -> str:
    return Path(AUTHORIZER_TEMPLATE).read_text(encoding="utf-8")
