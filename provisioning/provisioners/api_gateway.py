"""API Gateway v2 HTTP APIs: the API and its auto-deploy stage (routes and integrations
are in api_gateway_routes.py).

apigw:api properties:  name: str, description: str, cors: dict | None
  (cors keys: allow_origins, allow_methods, allow_headers, max_age)
outputs: physical_id (api id), api_id, endpoint (https URL),
  execution_arn ("arn:aws:execute-api:<region>:<acct>:<id>")

apigw:stage properties: api_id (Ref), name: "$default", auto_deploy: bool,
  throttle: {"rate_limit": requests/s, "burst_limit": requests} | None (every route's default)
outputs: physical_id ("<api id>/<stage name>"), url"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from provisioning.aws import TAG_LOGICAL_ID
from provisioning.errors import aws_errors, delete_if_present, found_or_none, is_not_found
from provisioning.provisioners.base import Current, Provisioner
from provisioning.state import RecordedResource

SAME_API = "it belongs to one API; a new API needs a new one"


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


def paged(call: Any, key: str = "Items", **kwargs: Any) -> Iterator[Mapping[str, Any]]:
    token = None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return


class ApiProvisioner(Provisioner):
    resource_type = "apigw:api"
    noun = "HTTP API"

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
            found = found_or_none(self.aws.client("apigatewayv2").get_api, ApiId=api_id)
        return None if found is None else dict(found)

    def _find(self, name: str) -> Mapping[str, Any] | None:
        """APIs are not unique by name: ours also carry this stage's tags (and the node's,
        which `ownership_problem` checks)."""
        wanted = self.aws.tags("")
        del wanted[TAG_LOGICAL_ID]
        with aws_errors("finding HTTP API", name):
            for api in paged(self.aws.client("apigatewayv2").get_apis):
                tags = api.get("Tags") or {}
                if api["Name"] == name and all(tags.get(k) == v for k, v in wanted.items()):
                    return api
        return None

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

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # APIs are not unique by name: a retried CreateApi would make a twin, so it is sent
        # once, and after a lost reply the API is found by its name and tags.
        args: dict[str, Any] = {
            "Name": properties["name"],
            "ProtocolType": "HTTP",
            "Description": properties.get("description", ""),
            "Tags": self.aws.tags(logical_id),
        }
        cors = canonical_cors(properties.get("cors"))
        if cors:
            args["CorsConfiguration"] = _aws_cors(cors)
        return self._outputs(self.aws.client_once("apigatewayv2").create_api(**args))

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        gw = self.aws.client("apigatewayv2")
        api_id = current.outputs["api_id"]
        cors = canonical_cors(properties.get("cors"))
        gw.update_api(
            ApiId=api_id, Name=properties["name"], Description=properties.get("description", "")
        )
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


class StageProvisioner(Provisioner):
    resource_type = "apigw:stage"
    noun = "stage of HTTP API"
    replace_on = {"api_id": f"a stage {SAME_API}", "name": "a stage cannot be renamed"}

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

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # A stage is unique by its name in its API: "ConflictException" after a lost reply
        # is found and adopted by `provision`.
        api_id, name = properties["api_id"], properties["name"]
        self._create(logical_id, api_id, name, _stage_args(properties))
        return self._outputs(api_id, name)

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        api_id, name = properties["api_id"], properties["name"]
        self._update(logical_id, api_id, name, _stage_args(properties))
        return self._outputs(api_id, name)

    def with_defaults(self, properties: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"throttle": None, **properties}

    def canonical(self, name: str, value: Any) -> Any:
        if name == "throttle":
            return _canonical_throttle(value)
        return super().canonical(name, value)

    def error_subject(self, properties: Mapping[str, Any], current: Current | None) -> str:
        return f"{properties['api_id']}/{properties['name']}"

    def _outputs(self, api_id: str, name: str) -> dict[str, Any]:
        endpoint = self.aws.client("apigatewayv2").get_api(ApiId=api_id)["ApiEndpoint"]
        return _stage_outputs(api_id, name, endpoint)

    def _create(self, logical_id: str, api_id: str, name: str, args: dict[str, Any]) -> None:
        self.aws.client("apigatewayv2").create_stage(
            ApiId=api_id, StageName=name, Tags=self.aws.tags(logical_id), **args
        )

    def _update(self, logical_id: str, api_id: str, name: str, args: dict[str, Any]) -> None:
        """UpdateStage, or a fresh stage where the emulator lacks UpdateStage (moto)."""
        gw = self.aws.client("apigatewayv2")
        if not self.aws.target.is_sandbox:
            try:
                gw.update_stage(ApiId=api_id, StageName=name, **args)
                return
            except NotImplementedError:  # moto in-process
                pass
        # The sandbox server answers 500 (retried for a while) instead of NotImplemented.
        gw.delete_stage(ApiId=api_id, StageName=name)
        self._create(logical_id, api_id, name, args)

    def destroy(self, recorded: RecordedResource) -> None:
        api_id, name = recorded.physical_id.split("/", 1)
        with aws_errors("deleting stage of HTTP API", recorded.physical_id):
            delete_if_present(
                self.aws.client("apigatewayv2").delete_stage, ApiId=api_id, StageName=name
            )


def _stage_args(properties: Mapping[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {"AutoDeploy": bool(properties.get("auto_deploy", True))}
    throttle = _canonical_throttle(properties.get("throttle"))
    if throttle:
        args["DefaultRouteSettings"] = {
            "ThrottlingRateLimit": throttle["rate_limit"],
            "ThrottlingBurstLimit": throttle["burst_limit"],
        }
    return args


def _canonical_throttle(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not value or value.get("rate_limit") is None:
        return None
    return {"rate_limit": float(value["rate_limit"]), "burst_limit": int(value["burst_limit"])}


def _stage_properties(api_id: str, name: str, stage: Mapping[str, Any]) -> dict[str, Any]:
    settings = stage.get("DefaultRouteSettings") or {}
    throttle = None
    if settings.get("ThrottlingRateLimit") is not None:
        throttle = {
            "rate_limit": settings["ThrottlingRateLimit"],
            "burst_limit": settings.get("ThrottlingBurstLimit", 0),
        }
    return {
        "api_id": api_id,
        "name": name,
        "auto_deploy": bool(stage.get("AutoDeploy")),
        "throttle": _canonical_throttle(throttle),
    }


def _stage_outputs(api_id: str, name: str, endpoint: str) -> dict[str, Any]:
    url = f"{endpoint}/" if name == "$default" else f"{endpoint}/{name}"
    return {"physical_id": f"{api_id}/{name}", "url": url}


PROVISIONERS: tuple[type[Provisioner], ...] = (ApiProvisioner, StageProvisioner)
