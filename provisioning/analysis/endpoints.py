"""What a team can call once a stage is deployed: every route of every HTTP API, with its
full URL, how a caller authenticates, and a curl command that works for that mode.

Built from the recorded resources alone (no AWS call): the API's endpoint and execution
ARN are outputs of apigw:api, a route's key and authorization are its applied properties.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from provisioning.state import RecordedResource

AUTH_MODES = {"AWS_IAM": "iam", "JWT": "jwt", "CUSTOM": "api_key", "NONE": "none"}
EXAMPLE_BODY = '{"prompt": "Hello"}'
_PARAMETER = re.compile(r"\{([^}+]+)(\+?)\}")
_WITH_BODY = ("POST", "PUT", "PATCH")


@dataclass(frozen=True)
class Endpoint:
    node: str
    """The HTTP API's node key ("http_api:public")."""
    method: str
    path: str
    """As routed, e.g. /orders/{id}; "/" for the API's $default route."""
    url: str
    """The full invoke URL, with an example value in place of each {parameter}."""
    auth: str
    """iam | jwt | api_key | none"""
    example: str
    """A curl command for this route and auth mode (credentials from environment variables)."""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def endpoints(records: Mapping[str, RecordedResource]) -> list[Endpoint]:
    """Every route of every deployed HTTP API, ordered by API, path and method."""
    apis = {
        r.outputs.get("api_id") or r.physical_id: r
        for r in records.values()
        if r.resource_type == "apigw:api"
    }
    found = []
    for route in records.values():
        if route.resource_type != "apigw:route":
            continue
        api = apis.get(str(route.properties.get("api_id") or route.outputs.get("api_id")))
        if api is None:
            continue
        found.append(_endpoint(api, route))
    return sorted(found, key=lambda e: (e.node, e.path, e.method))


def _endpoint(api: RecordedResource, route: RecordedResource) -> Endpoint:
    key = str(route.properties.get("route_key") or "$default")
    method, path = key.split(" ", 1) if " " in key else ("ANY", "/")
    auth = AUTH_MODES.get(str(route.properties.get("authorization_type") or "NONE"), "none")
    url = str(api.outputs.get("endpoint") or "").rstrip("/") + example_path(path)
    region = _region(str(api.outputs.get("execution_arn") or ""))
    return Endpoint(
        node=api.node or api.logical_id,
        method=method,
        path=path,
        url=url,
        auth=auth,
        example=curl_example(method, url, auth, region),
    )


def example_path(path: str) -> str:
    """`/orders/{id}` -> `/orders/example-id`; a greedy `{proxy+}` -> `example/path`."""
    return _PARAMETER.sub(lambda m: "example/path" if m.group(2) else f"example-{m.group(1)}", path)


def _region(execution_arn: str) -> str:
    parts = execution_arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else "us-east-1"


def curl_example(method: str, url: str, auth: str, region: str) -> str:
    sent = "POST" if method == "ANY" else method
    words = ["curl", "-X", sent, shlex.quote(url)]
    if auth == "iam":
        # curl signs with SigV4 itself (7.75+); temporary credentials add their session
        # token as a header, which the shell leaves out when there is none.
        words += [
            "--aws-sigv4", shlex.quote(f"aws:amz:{region}:execute-api"),
            "--user", '"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"',
            '${AWS_SESSION_TOKEN:+-H "x-amz-security-token: $AWS_SESSION_TOKEN"}',
        ]  # fmt: skip
    elif auth == "jwt":
        words += ["-H", '"Authorization: Bearer $TOKEN"']
    elif auth == "api_key":
        words += ["-H", '"x-api-key: $API_KEY"']
    if sent in _WITH_BODY:
        words += ["-H", shlex.quote("content-type: application/json")]
        words += ["-d", shlex.quote(EXAMPLE_BODY)]
    return " ".join(words)
