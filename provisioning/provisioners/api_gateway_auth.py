"""API Gateway v2 authorizers: who may call the routes of an HTTP API.

A JWT authorizer checks a bearer token against an issuer and audience; a REQUEST
authorizer asks one of our Lambda functions (the API key check, see
strands/templates/api_key_authorizer.py). Routes name the authorizer by id
(api_gateway_routes.py: `authorization_type`, `authorizer_id`).

apigw:authorizer properties:
  api_id (Ref), name: str, authorizer_type: "JWT" | "REQUEST",
  identity_source: list[str]  e.g. ["$request.header.Authorization"]
  jwt: {"issuer": str, "audience": [str]} | None          (JWT)
  function_arn: str (Ref to lambda:function arn) | None  (REQUEST)
  result_ttl_s: int                                      (REQUEST: answers cached per key)
outputs: physical_id (authorizer id), authorizer_id, api_id"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from provisioning.errors import aws_errors, delete_if_present, found_or_none, is_not_found
from provisioning.provisioners.api_gateway import SAME_API, paged
from provisioning.provisioners.api_gateway_routes import sub_api_id
from provisioning.provisioners.base import Current, Provisioner
from provisioning.state import RecordedResource


class AuthorizerProvisioner(Provisioner):
    resource_type = "apigw:authorizer"
    noun = "authorizer of HTTP API"
    replace_on = {
        "api_id": f"an authorizer {SAME_API}",
        "authorizer_type": "API Gateway cannot change an authorizer's type",
    }

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        api_id = sub_api_id(properties, recorded)
        if recorded:
            found = self._get(api_id, recorded.physical_id)
        else:
            found = self._find(api_id, str((properties or {})["name"]))
        return None if found is None else self._current(api_id, found)

    def _get(self, api_id: str, authorizer_id: str) -> Mapping[str, Any] | None:
        gw = self.aws.client("apigatewayv2")
        with aws_errors("reading authorizer of HTTP API", f"{api_id}/{authorizer_id}"):
            found = found_or_none(gw.get_authorizer, ApiId=api_id, AuthorizerId=authorizer_id)
        return None if found is None else dict(found)

    def _find(self, api_id: str, name: str) -> Mapping[str, Any] | None:
        """An authorizer a lost reply made, by its name in its API. The sandbox cannot list
        authorizers (moto lacks GetAuthorizers): there a lost reply may leave an unused twin."""
        if self.aws.target.is_sandbox:
            return None
        gw = self.aws.client("apigatewayv2")
        with aws_errors("finding authorizer of HTTP API", f"{api_id}/{name}"):
            try:
                listed = list(paged(gw.get_authorizers, ApiId=api_id))
            except NotImplementedError:  # moto in-process
                return None
            except ClientError as exc:
                if is_not_found(exc):
                    return None
                raise
        return next((item for item in listed if item.get("Name") == name), None)

    def _current(self, api_id: str, found: Mapping[str, Any]) -> Current:
        jwt = found.get("JwtConfiguration")
        props = {
            "api_id": api_id,
            "name": found.get("Name"),
            "authorizer_type": found.get("AuthorizerType"),
            "identity_source": list(found.get("IdentitySource") or []),
            "jwt": (
                {"issuer": jwt.get("Issuer"), "audience": list(jwt.get("Audience") or [])}
                if jwt
                else None
            ),
            "function_arn": _function_of(found.get("AuthorizerUri")),
            "result_ttl_s": found.get("AuthorizerResultTtlInSeconds"),
        }
        return Current(props, _outputs(api_id, found["AuthorizerId"]))

    def owner_tags(self, current: Current) -> Mapping[str, str] | None:
        return None  # authorizers carry no tags: the API they live in is what is owned

    def with_defaults(self, properties: Mapping[str, Any]) -> Mapping[str, Any]:
        defaults = {"jwt": None, "function_arn": None, "result_ttl_s": None}
        merged = {**defaults, **properties}
        if merged["authorizer_type"] == "JWT":
            merged["result_ttl_s"] = None  # JWT authorizers cache nothing of ours
        return merged

    def canonical(self, name: str, value: Any) -> Any:
        if name == "jwt" and value:
            return {"issuer": value["issuer"], "audience": sorted(value["audience"])}
        return super().canonical(name, value)

    def error_subject(self, properties: Mapping[str, Any], current: Current | None) -> str:
        return f"{properties['api_id']}/{properties['name']}"

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # Not idempotent: sent once, found again by its name after a lost reply.
        made = self.aws.client_once("apigatewayv2").create_authorizer(**self._args(properties))
        return _outputs(properties["api_id"], made["AuthorizerId"])

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        self.aws.client("apigatewayv2").update_authorizer(
            AuthorizerId=current.outputs["authorizer_id"], **self._args(properties)
        )
        return dict(current.outputs)

    def _args(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        args: dict[str, Any] = {
            "ApiId": properties["api_id"],
            "Name": properties["name"],
            "AuthorizerType": properties["authorizer_type"],
            "IdentitySource": list(properties["identity_source"]),
        }
        if properties["authorizer_type"] == "JWT":
            jwt = properties["jwt"]
            args["JwtConfiguration"] = {
                "Issuer": jwt["issuer"],
                "Audience": list(jwt["audience"]),
            }
        else:
            args["AuthorizerUri"] = self.invoke_uri(str(properties["function_arn"]))
            args["AuthorizerPayloadFormatVersion"] = "2.0"
            # {"isAuthorized": bool} answers: the function builds no IAM policy.
            args["EnableSimpleResponses"] = True
            args["AuthorizerResultTtlInSeconds"] = int(properties.get("result_ttl_s") or 0)
        return args

    def invoke_uri(self, function_arn: str) -> str:
        """How API Gateway names a Lambda function it invokes."""
        aws = self.aws
        return (
            f"arn:{aws.partition}:apigateway:{aws.region}:lambda:path/2015-03-31/functions/"
            f"{function_arn}/invocations"
        )

    def destroy(self, recorded: RecordedResource) -> None:
        api_id = sub_api_id(None, recorded)
        with aws_errors("deleting authorizer of HTTP API", f"{api_id}/{recorded.physical_id}"):
            delete_if_present(
                self.aws.client("apigatewayv2").delete_authorizer,
                ApiId=api_id,
                AuthorizerId=recorded.physical_id,
            )


def _function_of(uri: str | None) -> str | None:
    """The function ARN inside an authorizer's invoke URI."""
    if not uri or "/functions/" not in uri:
        return None
    return uri.split("/functions/", 1)[1].removesuffix("/invocations")


def _outputs(api_id: str, authorizer_id: str) -> dict[str, Any]:
    return {"physical_id": authorizer_id, "authorizer_id": authorizer_id, "api_id": api_id}


PROVISIONERS: tuple[type[Provisioner], ...] = (AuthorizerProvisioner,)
