"""API Gateway v2 HTTP APIs: the API, Lambda integrations, routes and the auto-deploy stage.

apigw:api properties:  name: str, description: str, cors: dict | None
  (cors keys: allow_origins, allow_methods, allow_headers, max_age)
outputs: physical_id (api id), api_id, endpoint (https URL),
  execution_arn ("arn:aws:execute-api:<region>:<acct>:<id>")

apigw:integration properties: api_id (Ref), integration_uri (Ref to function arn),
  payload_format_version: "2.0", timeout_ms: int
outputs: physical_id (integration id), integration_id, api_id

apigw:route properties: api_id (Ref), route_key: str ("ANY /support/{proxy+}"),
  target: str (Join "integrations/" + Ref)
outputs: physical_id (route id), route_id, api_id

apigw:stage properties: api_id (Ref), name: "$default", auto_deploy: bool
outputs: physical_id ("<api id>/<stage name>"), url"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from provisioning.aws import TAG_LOGICAL_ID
from provisioning.errors import aws_errors, delete_if_present, error_code, is_not_found
from provisioning.model.spec import Join, Ref
from provisioning.provisioners.base import Current, Provisioner, ReadRequest
from provisioning.provisioners.intents import create_once
from provisioning.state import RecordedResource

HTTP_METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_SAME_API = "it belongs to one API; a new API needs a new one"


def build_cors_configuration(
    allow_origins: Iterable[str] = ("*",),
    allow_methods: Iterable[str] = ("*",),
    allow_headers: Iterable[str] = ("authorization", "content-type"),
    max_age: int | None = 300,
) -> dict[str, Any]:
    """The `cors` property in its canonical form (the form read back from AWS)."""
    if max_age is not None and not 0 <= max_age <= 86400:
        raise ValueError("CORS max_age must be between 0 and 86400 seconds")
    return {
        "allow_origins": sorted(set(allow_origins)),
        "allow_methods": sorted({m.upper() for m in allow_methods}),
        "allow_headers": sorted({h.lower() for h in allow_headers}),
        "max_age": max_age,
    }


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


def canonical_cors(cors: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not cors:
        return None
    return build_cors_configuration(
        cors.get("allow_origins", ()),
        cors.get("allow_methods", ()),
        cors.get("allow_headers", ()),
        cors.get("max_age"),
    )


def _aws_cors(cors: Mapping[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {
        "AllowOrigins": list(cors["allow_origins"]),
        "AllowMethods": list(cors["allow_methods"]),
        "AllowHeaders": list(cors["allow_headers"]),
    }
    if cors.get("max_age") is not None:
        config["MaxAge"] = cors["max_age"]
    return config


def _from_aws_cors(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    return build_cors_configuration(
        config.get("AllowOrigins", ()),
        config.get("AllowMethods", ()),
        config.get("AllowHeaders", ()),
        config.get("MaxAge"),
    )


def _paged(call: Any, key: str = "Items", **kwargs: Any) -> Iterator[Mapping[str, Any]]:
    token = None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return


def _sub_api_id(properties: Mapping[str, Any] | None, recorded: RecordedResource | None) -> str:
    """The API a route / integration lives in: where it was made, else where it should be."""
    if recorded:
        return str(recorded.outputs.get("api_id") or recorded.properties["api_id"])
    return str((properties or {})["api_id"])


class ApiProvisioner(Provisioner):
    resource_type = "apigw:api"

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        api = (
            self._get(recorded.physical_id) if recorded else self._find((properties or {})["name"])
        )
        return None if api is None else self._current(api)

    def _current(self, api: Mapping[str, Any]) -> Current:
        props = {
            "name": api["Name"],
            "description": api.get("Description", ""),
            "cors": _from_aws_cors(api.get("CorsConfiguration")),
        }
        return Current(props, self._outputs(api), tags=dict(api.get("Tags") or {}))

    def _get(self, api_id: str) -> Mapping[str, Any] | None:
        with aws_errors("reading HTTP API", api_id):
            try:
                return dict(self.aws.client("apigatewayv2").get_api(ApiId=api_id))
            except ClientError as exc:
                if is_not_found(exc):
                    return None
                raise

    def _find(self, name: str, logical_id: str | None = None) -> Mapping[str, Any] | None:
        """APIs are not unique by name: ours also carry this stage's (and node's) tags."""
        wanted = self.aws.tags(logical_id or "")
        if logical_id is None:
            del wanted[TAG_LOGICAL_ID]
        with aws_errors("finding HTTP API", name):
            for api in _paged(self.aws.client("apigatewayv2").get_apis):
                tags = api.get("Tags") or {}
                if api["Name"] == name and all(tags.get(k) == v for k, v in wanted.items()):
                    return api
        return None

    def _found_outputs(self, name: str, logical_id: str) -> dict[str, Any] | None:
        found = self._find(name, logical_id)
        return None if found is None else self._outputs(found)

    def _outputs(self, api: Mapping[str, Any]) -> dict[str, Any]:
        api_id = api["ApiId"]
        aws = self.aws
        arn = f"arn:{aws.partition}:execute-api:{aws.region}:{aws.account_id}:{api_id}"
        return {
            "physical_id": api_id,
            "api_id": api_id,
            "endpoint": api["ApiEndpoint"],
            "execution_arn": arn,
        }

    def canonical(self, name: str, value: Any) -> Any:
        # AWS may return methods, headers and origins in another order or case.
        return canonical_cors(value) if name == "cors" else super().canonical(name, value)

    def provision(
        self, logical_id: str, properties: Mapping[str, Any], current: Current | None
    ) -> dict[str, Any]:
        gw = self.aws.client("apigatewayv2")
        name = properties["name"]
        cors = canonical_cors(properties.get("cors"))
        if current is None:
            found = self._find(name, logical_id)
            current = None if found is None else self._current(found)
        if current is None:
            args: dict[str, Any] = {
                "Name": name,
                "ProtocolType": "HTTP",
                "Description": properties.get("description", ""),
                "Tags": self.aws.tags(logical_id),
            }
            if cors:
                args["CorsConfiguration"] = _aws_cors(cors)
            with aws_errors("creating HTTP API", name):
                # APIs are not unique by name: a retried CreateApi would make a twin.
                return create_once(
                    self.aws,
                    lambda: self._outputs(self.aws.client_once("apigatewayv2").create_api(**args)),
                    lambda: self._found_outputs(name, logical_id),
                )
        api_id = current.outputs["api_id"]
        with aws_errors("updating HTTP API", name):
            gw.update_api(ApiId=api_id, Name=name, Description=properties.get("description", ""))
            if cors:
                gw.update_api(ApiId=api_id, CorsConfiguration=_aws_cors(cors))
            elif current.properties.get("cors"):
                gw.delete_cors_configuration(ApiId=api_id)
        return dict(current.outputs)

    def destroy(self, recorded: RecordedResource) -> None:
        with aws_errors("deleting HTTP API", recorded.physical_id):
            delete_if_present(
                self.aws.client("apigatewayv2").delete_api, ApiId=recorded.physical_id
            )


class _ApiChild(Provisioner):
    """Integrations and routes: one listing per API answers for every one of them in it,
    found by id when recorded, else by the property that identifies it."""

    reads_together = True
    listing: ClassVar[str]
    """The apigatewayv2 call that lists them ("get_routes")."""
    id_key: ClassVar[str]
    match: ClassVar[tuple[str, str]]
    """(AWS key, spec property) that identify one when no id is recorded."""
    noun: ClassVar[str]

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        return self.read_many([(properties, recorded)])[0]

    def batch_key(self, request: ReadRequest) -> str:
        return _sub_api_id(*request)

    def read_many(self, requests: Sequence[ReadRequest]) -> list[Current | None]:
        listed: dict[str, list[Mapping[str, Any]]] = {}
        results: list[Current | None] = []
        for properties, recorded in requests:
            api_id = _sub_api_id(properties, recorded)
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
                return list(_paged(getattr(gw, self.listing), ApiId=api_id))
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
    def current(self, api_id: str, found: Mapping[str, Any]) -> Current:
        """Live properties and outputs of one listed item."""


class IntegrationProvisioner(_ApiChild):
    resource_type = "apigw:integration"
    replace_on = {"api_id": f"an integration {_SAME_API}"}
    listing, id_key, noun = "get_integrations", "IntegrationId", "integration"
    match = ("IntegrationUri", "integration_uri")

    def current(self, api_id: str, found: Mapping[str, Any]) -> Current:
        props = {
            "api_id": api_id,
            "integration_uri": found.get("IntegrationUri"),
            "payload_format_version": found.get("PayloadFormatVersion"),
            "timeout_ms": found.get("TimeoutInMillis"),
        }
        return Current(props, _integration_outputs(api_id, found["IntegrationId"]))

    def provision(
        self, logical_id: str, properties: Mapping[str, Any], current: Current | None
    ) -> dict[str, Any]:
        gw = self.aws.client("apigatewayv2")
        api_id = properties["api_id"]
        args = {
            "ApiId": api_id,
            "IntegrationUri": properties["integration_uri"],
            "PayloadFormatVersion": properties.get("payload_format_version", "2.0"),
            "TimeoutInMillis": properties.get("timeout_ms", 30000),
        }
        if current is None:

            def create() -> dict[str, Any]:
                made = self.aws.client_once("apigatewayv2").create_integration(
                    IntegrationType="AWS_PROXY", IntegrationMethod="POST", **args
                )
                return _integration_outputs(api_id, made["IntegrationId"])

            with aws_errors("creating integration in HTTP API", api_id):
                # Not idempotent: found again by its integration URI after a lost reply.
                return create_once(self.aws, create, lambda: self.existing_outputs(properties))
        integration_id = current.outputs["integration_id"]
        with aws_errors("updating integration of HTTP API", api_id):
            gw.update_integration(IntegrationId=integration_id, **args)
        return dict(current.outputs)

    def destroy(self, recorded: RecordedResource) -> None:
        api_id = _sub_api_id(None, recorded)
        with aws_errors("deleting integration of HTTP API", api_id):
            delete_if_present(
                self.aws.client("apigatewayv2").delete_integration,
                ApiId=api_id,
                IntegrationId=recorded.physical_id,
            )


def _integration_outputs(api_id: str, integration_id: str) -> dict[str, Any]:
    return {"physical_id": integration_id, "integration_id": integration_id, "api_id": api_id}


class RouteProvisioner(_ApiChild):
    resource_type = "apigw:route"
    replace_on = {"api_id": f"a route {_SAME_API}"}
    listing, id_key, noun = "get_routes", "RouteId", "route"
    match = ("RouteKey", "route_key")

    def current(self, api_id: str, found: Mapping[str, Any]) -> Current:
        props = {"api_id": api_id, "route_key": found["RouteKey"], "target": found.get("Target")}
        return Current(props, _route_outputs(api_id, found["RouteId"]))

    def provision(
        self, logical_id: str, properties: Mapping[str, Any], current: Current | None
    ) -> dict[str, Any]:
        gw = self.aws.client("apigatewayv2")
        api_id, key = properties["api_id"], properties["route_key"]
        if current is None:

            def create() -> dict[str, Any]:
                made = self.aws.client_once("apigatewayv2").create_route(
                    ApiId=api_id, RouteKey=key, Target=properties["target"]
                )
                return _route_outputs(api_id, made["RouteId"])

            with aws_errors("creating route in HTTP API", f"{api_id} {key}"):
                # Not idempotent: found again by its route key after a lost reply.
                return create_once(self.aws, create, lambda: self.existing_outputs(properties))
        route_id = current.outputs["route_id"]
        with aws_errors("updating route in HTTP API", f"{api_id} {key}"):
            gw.update_route(
                ApiId=api_id, RouteId=route_id, RouteKey=key, Target=properties["target"]
            )
        return dict(current.outputs)

    def destroy(self, recorded: RecordedResource) -> None:
        api_id = _sub_api_id(None, recorded)
        with aws_errors("deleting route of HTTP API", api_id):
            delete_if_present(
                self.aws.client("apigatewayv2").delete_route,
                ApiId=api_id,
                RouteId=recorded.physical_id,
            )


def _route_outputs(api_id: str, route_id: str) -> dict[str, Any]:
    return {"physical_id": route_id, "route_id": route_id, "api_id": api_id}


class StageProvisioner(Provisioner):
    resource_type = "apigw:stage"
    replace_on = {"api_id": f"a stage {_SAME_API}", "name": "a stage cannot be renamed"}

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        if recorded:
            api_id, name = recorded.physical_id.split("/", 1)
        else:
            api_id, name = (properties or {})["api_id"], (properties or {})["name"]
        gw = self.aws.client("apigatewayv2")
        with aws_errors("reading stage of HTTP API", f"{api_id}/{name}"):
            try:
                stage = gw.get_stage(ApiId=api_id, StageName=name)
                # An API's endpoint never changes: the recorded URL saves a GetApi per read.
                outputs = dict(recorded.outputs) if recorded and recorded.outputs.get("url") else {}
                if not outputs:
                    endpoint = gw.get_api(ApiId=api_id)["ApiEndpoint"]
                    outputs = _stage_outputs(api_id, name, endpoint)
            except ClientError as exc:
                if is_not_found(exc):
                    return None
                raise
        return Current(_stage_properties(api_id, name, stage), outputs)

    def provision(
        self, logical_id: str, properties: Mapping[str, Any], current: Current | None
    ) -> dict[str, Any]:
        gw = self.aws.client("apigatewayv2")
        api_id, name = properties["api_id"], properties["name"]
        auto = bool(properties.get("auto_deploy", True))
        with aws_errors("deploying stage of HTTP API", f"{api_id}/{name}"):
            if current is None:
                self._create(logical_id, api_id, name, auto)
            else:
                self._update(logical_id, api_id, name, auto)
            endpoint = gw.get_api(ApiId=api_id)["ApiEndpoint"]
        return _stage_outputs(api_id, name, endpoint)

    def _create(self, logical_id: str, api_id: str, name: str, auto: bool) -> None:
        try:
            self.aws.client("apigatewayv2").create_stage(
                ApiId=api_id, StageName=name, AutoDeploy=auto, Tags=self.aws.tags(logical_id)
            )
        except ClientError as exc:
            # A retried call whose first reply was lost: the stage is there, by its name.
            if error_code(exc) != "ConflictException":
                raise

    def _update(self, logical_id: str, api_id: str, name: str, auto: bool) -> None:
        """UpdateStage, or a fresh stage where the emulator lacks UpdateStage (moto)."""
        gw = self.aws.client("apigatewayv2")
        if not self.aws.target.is_sandbox:
            try:
                gw.update_stage(ApiId=api_id, StageName=name, AutoDeploy=auto)
                return
            except NotImplementedError:  # moto in-process
                pass
        # The sandbox server answers 500 (retried for a while) instead of NotImplemented.
        gw.delete_stage(ApiId=api_id, StageName=name)
        self._create(logical_id, api_id, name, auto)

    def destroy(self, recorded: RecordedResource) -> None:
        api_id, name = recorded.physical_id.split("/", 1)
        with aws_errors("deleting stage of HTTP API", recorded.physical_id):
            delete_if_present(
                self.aws.client("apigatewayv2").delete_stage, ApiId=api_id, StageName=name
            )


def _stage_properties(api_id: str, name: str, stage: Mapping[str, Any]) -> dict[str, Any]:
    return {"api_id": api_id, "name": name, "auto_deploy": bool(stage.get("AutoDeploy"))}


def _stage_outputs(api_id: str, name: str, endpoint: str) -> dict[str, Any]:
    url = f"{endpoint}/" if name == "$default" else f"{endpoint}/{name}"
    return {"physical_id": f"{api_id}/{name}", "url": url}


PROVISIONERS: tuple[type[Provisioner], ...] = (
    ApiProvisioner,
    IntegrationProvisioner,
    RouteProvisioner,
    StageProvisioner,
)
