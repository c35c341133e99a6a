"""API Gateway v2 routes and Lambda integrations, and the helpers that build their specs.

apigw:integration properties: api_id (Ref), integration_uri (Ref to function arn),
  payload_format_version: "2.0", timeout_ms: int
outputs: physical_id (integration id), integration_id, api_id

apigw:route properties: api_id (Ref), route_key: str ("ANY /support/{proxy+}"),
  target: str (Join "integrations/" + Ref),
  authorization_type: "NONE" | "AWS_IAM" | "JWT" | "CUSTOM" (absent: NONE),
  authorizer_id: str (Ref to an apigw:authorizer) | None, for JWT and CUSTOM only
outputs: physical_id (route id), route_id, api_id"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from provisioning.errors import aws_errors, delete_if_present, is_not_found
from provisioning.model.spec import Join, Ref
from provisioning.provisioners.api_gateway import SAME_API, paged
from provisioning.provisioners.base import Current, Provisioner, ReadRequest
from provisioning.state import RecordedResource

HTTP_METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def build_route(api_id: Any, integration_id: Any, method: str, path: str) -> dict[str, Any]:
    """apigw:route properties sending `METHOD path` to an integration (ids may be Refs)."""
    method = method.upper()
    if method not in HTTP_METHODS:
        raise ValueError(f"unknown HTTP method {method!r}")
    if not path.startswith("/"):
        raise ValueError(f"a route path starts with '/': {path!r}")
    return {"api_id": api_id, "route_key": f"{method} {path}", "target": _target(integration_id)}


def build_catch_all_route(api_id: Any, integration_id: Any, prefix: str = "") -> dict[str, Any]:
    """Everything under `/prefix/`, or the API's `$default` route when there is no prefix."""
    prefix = prefix.strip("/")
    if not prefix:
        return {"api_id": api_id, "route_key": "$default", "target": _target(integration_id)}
    return build_route(api_id, integration_id, "ANY", f"/{prefix}/{{proxy+}}")


def build_rest_api_routes(api_id: Any, integration_id: Any, resource: str) -> list[dict[str, Any]]:
    """Collection and item routes for `/resource` and `/resource/{id}`."""
    base = "/" + resource.strip("/")
    item = f"{base}/{{id}}"
    pairs = [("GET", base), ("POST", base), ("GET", item), ("PUT", item), ("DELETE", item)]
    return [build_route(api_id, integration_id, method, path) for method, path in pairs]


def _target(integration_id: Any) -> str | Join:
    if isinstance(integration_id, Ref | Join):
        return Join(("integrations/", integration_id))
    return f"integrations/{integration_id}"


def sub_api_id(properties: Mapping[str, Any] | None, recorded: RecordedResource | None) -> str:
    """The API a route / integration lives in: where it was made, else where it should be."""
    if recorded:
        return str(recorded.outputs.get("api_id") or recorded.properties["api_id"])
    return str((properties or {})["api_id"])


class _ApiChild(Provisioner):
    """Integrations and routes: one listing per API answers for every one of them in it,
    found by id when recorded, else by the property that identifies it."""

    reads_together = True
    id_key: ClassVar[str]
    match: ClassVar[tuple[str, str]]
    """(AWS key, spec property) that identify one when no id is recorded."""
    noun: ClassVar[str]

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        return self.read_many([(properties, recorded)])[0]

    def batch_key(self, request: ReadRequest) -> str:
        return sub_api_id(*request)

    def read_many(self, requests: Sequence[ReadRequest]) -> list[Current | None]:
        listed: dict[str, list[Mapping[str, Any]]] = {}
        results: list[Current | None] = []
        for properties, recorded in requests:
            api_id = sub_api_id(properties, recorded)
            if api_id not in listed:
                listed[api_id] = self._list(api_id)
            found = self._pick(listed[api_id], properties, recorded)
            results.append(None if found is None else self.current(api_id, found))
        return results

    def _list(self, api_id: str) -> list[Mapping[str, Any]]:
        """[] when the API itself is gone."""
        gw = self.aws.client("apigatewayv2")
        with aws_errors(f"reading {self.noun}s of HTTP API", api_id):
            try:
                return list(paged(self.lister(gw), ApiId=api_id))
            except ClientError as exc:
                if is_not_found(exc):
                    return []
                raise

    def _pick(
        self,
        items: Iterable[Mapping[str, Any]],
        properties: Mapping[str, Any] | None,
        recorded: RecordedResource | None,
    ) -> Mapping[str, Any] | None:
        if recorded:
            key, wanted = self.id_key, recorded.physical_id
        else:
            key, wanted = self.match[0], (properties or {})[self.match[1]]
        return next((item for item in items if item.get(key) == wanted), None)

    @abstractmethod
    def lister(self, gw: Any) -> Callable[..., Mapping[str, Any]]:
        """The apigatewayv2 call that lists them (`gw.get_routes`)."""

    @abstractmethod
    def current(self, api_id: str, found: Mapping[str, Any]) -> Current:
        """Live properties and outputs of one listed item."""

    def error_subject(self, properties: Mapping[str, Any], current: Current | None) -> str:
        return str(properties["api_id"])


class IntegrationProvisioner(_ApiChild):
    resource_type = "apigw:integration"
    noun = "integration in HTTP API"
    replace_on = {"api_id": f"an integration {SAME_API}"}
    id_key, noun = "IntegrationId", "integration"
    match = ("IntegrationUri", "integration_uri")

    def lister(self, gw: Any) -> Callable[..., Mapping[str, Any]]:
        return gw.get_integrations  # type: ignore[no-any-return]

    def current(self, api_id: str, found: Mapping[str, Any]) -> Current:
        props = {
            "api_id": api_id,
            "integration_uri": found.get("IntegrationUri"),
            "payload_format_version": found.get("PayloadFormatVersion"),
            "timeout_ms": found.get("TimeoutInMillis"),
        }
        return Current(props, _integration_outputs(api_id, found["IntegrationId"]))

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # Not idempotent: sent once, found again by its integration URI after a lost reply.
        made = self.aws.client_once("apigatewayv2").create_integration(
            IntegrationType="AWS_PROXY", IntegrationMethod="POST", **_integration_args(properties)
        )
        return _integration_outputs(properties["api_id"], made["IntegrationId"])

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        self.aws.client("apigatewayv2").update_integration(
            IntegrationId=current.outputs["integration_id"], **_integration_args(properties)
        )
        return dict(current.outputs)

    def destroy(self, recorded: RecordedResource) -> None:
        api_id = sub_api_id(None, recorded)
        with aws_errors("deleting integration of HTTP API", api_id):
            delete_if_present(
                self.aws.client("apigatewayv2").delete_integration,
                ApiId=api_id,
                IntegrationId=recorded.physical_id,
            )


def _integration_args(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ApiId": properties["api_id"],
        "IntegrationUri": properties["integration_uri"],
        "PayloadFormatVersion": properties.get("payload_format_version", "2.0"),
        "TimeoutInMillis": properties.get("timeout_ms", 30000),
    }


def _integration_outputs(api_id: str, integration_id: str) -> dict[str, Any]:
    return {"physical_id": integration_id, "integration_id": integration_id, "api_id": api_id}


class RouteProvisioner(_ApiChild):
    resource_type = "apigw:route"
    noun = "route in HTTP API"
    replace_on = {"api_id": f"a route {SAME_API}"}
    id_key, noun = "RouteId", "route"
    match = ("RouteKey", "route_key")

    def lister(self, gw: Any) -> Callable[..., Mapping[str, Any]]:
        return gw.get_routes  # type: ignore[no-any-return]

    def current(self, api_id: str, found: Mapping[str, Any]) -> Current:
        kind = found.get("AuthorizationType") or "NONE"
        props = {
            "api_id": api_id,
            "route_key": found["RouteKey"],
            "target": found.get("Target"),
            "authorization_type": kind,
            # A route left with another kind may still name its old authorizer: unused.
            "authorizer_id": found.get("AuthorizerId") if kind in WITH_AUTHORIZER else None,
        }
        return Current(props, _route_outputs(api_id, found["RouteId"]))

    def with_defaults(self, properties: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"authorization_type": "NONE", "authorizer_id": None, **properties}

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # Not idempotent: sent once, found again by its route key after a lost reply.
        api_id = properties["api_id"]
        made = self.aws.client_once("apigatewayv2").create_route(
            ApiId=api_id,
            RouteKey=properties["route_key"],
            Target=properties["target"],
            **_authorization_args(properties),
        )
        return _route_outputs(api_id, made["RouteId"])

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        self.aws.client("apigatewayv2").update_route(
            ApiId=properties["api_id"],
            RouteId=current.outputs["route_id"],
            RouteKey=properties["route_key"],
            Target=properties["target"],
            **_authorization_args(properties),
        )
        return dict(current.outputs)

    def error_subject(self, properties: Mapping[str, Any], current: Current | None) -> str:
        return f"{properties['api_id']} {properties['route_key']}"

    def destroy(self, recorded: RecordedResource) -> None:
        api_id = sub_api_id(None, recorded)
        with aws_errors("deleting route of HTTP API", api_id):
            delete_if_present(
                self.aws.client("apigatewayv2").delete_route,
                ApiId=api_id,
                RouteId=recorded.physical_id,
            )


WITH_AUTHORIZER = ("JWT", "CUSTOM")


def _authorization_args(properties: Mapping[str, Any]) -> dict[str, Any]:
    kind = properties.get("authorization_type") or "NONE"
    args: dict[str, Any] = {"AuthorizationType": kind}
    if kind in WITH_AUTHORIZER:
        args["AuthorizerId"] = properties["authorizer_id"]
    return args


def _route_outputs(api_id: str, route_id: str) -> dict[str, Any]:
    return {"physical_id": route_id, "route_id": route_id, "api_id": api_id}


PROVISIONERS: tuple[type[Provisioner], ...] = (IntegrationProvisioner, RouteProvisioner)
