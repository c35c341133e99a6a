"""Who may call an HTTP API, deployed on moto: each auth mode's authorizer and routes, the
stage's throttling, and the endpoints a team is shown afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from provisioning import engine
from provisioning.aws import AwsContext
from provisioning.events import ListSink
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.state import MemoryStateStore

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"


def blueprint(**api: Any) -> Blueprint:
    return Blueprint(
        project="acme",
        stage="dev",
        agents=(Agent("support", timeout_s=30, alarms=False),),
        components=(Component("http_api", "public", api),),
        links=(Link("http_api:public", "agent:support", settings={"path": "/orders/{id}"}),),
    )


def deployed(aws: AwsContext, **api: Any) -> MemoryStateStore:
    store = MemoryStateStore()
    result = engine.deploy(blueprint(**api), store, ListSink(), aws)
    assert result.status == "SUCCEEDED", result.error
    return store


def the_route(aws: AwsContext, store: MemoryStateStore) -> dict[str, Any]:
    api_id = store.load()["http_api/public/api"].physical_id
    (route,) = aws.client("apigatewayv2").get_routes(ApiId=api_id)["Items"]
    return dict(route)


def test_by_default_routes_take_only_aws_signed_requests(aws: AwsContext) -> None:
    store = deployed(aws)

    route = the_route(aws, store)
    assert route["AuthorizationType"] == "AWS_IAM"
    assert "http_api/public/authorizer" not in store.load()


def test_jwt_routes_are_checked_by_an_authorizer_of_the_issuer_and_audience(
    aws: AwsContext,
) -> None:
    store = deployed(aws, auth="jwt", jwt_issuer=ISSUER, jwt_audience=["web", "cli"])

    records = store.load()
    authorizer_id = records["http_api/public/authorizer"].physical_id
    api_id = records["http_api/public/api"].physical_id
    authorizer = aws.client("apigatewayv2").get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert authorizer["JwtConfiguration"] == {"Issuer": ISSUER, "Audience": ["web", "cli"]}
    route = the_route(aws, store)
    assert (route["AuthorizationType"], route["AuthorizerId"]) == ("JWT", authorizer_id)


def test_a_jwt_api_without_issuer_and_audience_is_refused_before_any_call(
    aws: AwsContext,
) -> None:
    problems = engine.validate(blueprint(auth="jwt"))

    assert ("http_api:public", "jwt_issuer", "jwt needs the token issuer's URL") in problems
    assert any(field == "jwt_audience" for _, field, _ in problems)


def test_api_key_routes_are_checked_by_our_function_reading_the_key_hashes(
    aws: AwsContext,
) -> None:
    store = deployed(aws, auth="api_key")

    records = store.load()
    api_id = records["http_api/public/api"].physical_id
    authorizer_id = records["http_api/public/authorizer"].physical_id
    function_arn = records["http_api/public/api-key/function"].outputs["arn"]
    authorizer = aws.client("apigatewayv2").get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["$request.header.x-api-key"]
    assert f"/functions/{function_arn}/invocations" in authorizer["AuthorizerUri"]
    route = the_route(aws, store)
    assert (route["AuthorizationType"], route["AuthorizerId"]) == ("CUSTOM", authorizer_id)
    # API Gateway may invoke the check, for this authorizer only.
    policy = aws.client("lambda").get_policy(FunctionName=function_arn)["Policy"]
    assert "apigateway.amazonaws.com" in policy and f"/authorizers/{authorizer_id}" in policy
    # No key is accepted until one is issued: the parameter holds no hash.
    parameter = records["http_api/public/api-key/hashes"].physical_id
    value = aws.client("ssm").get_parameter(Name=parameter, WithDecryption=True)["Parameter"]
    assert (value["Type"], value["Value"]) == ("SecureString", "[]")


def test_switching_an_api_to_public_detaches_its_authorizer(aws: AwsContext) -> None:
    store = deployed(aws, auth="jwt", jwt_issuer=ISSUER, jwt_audience=["web"])

    result = engine.deploy(blueprint(auth="none"), store, ListSink(), aws)

    assert result.status == "SUCCEEDED", result.error
    assert the_route(aws, store)["AuthorizationType"] == "NONE"
    assert "http_api/public/authorizer" not in store.load()


def test_the_stage_throttles_every_route_and_a_new_limit_is_applied(aws: AwsContext) -> None:
    store = deployed(aws)
    api_id = store.load()["http_api/public/api"].physical_id
    gw = aws.client("apigatewayv2")

    limits = gw.get_stage(ApiId=api_id, StageName="$default")["DefaultRouteSettings"]
    assert (limits["ThrottlingRateLimit"], limits["ThrottlingBurstLimit"]) == (10, 20)

    engine.deploy(blueprint(throttle_rate=50, throttle_burst=100), store, ListSink(), aws)

    limits = gw.get_stage(ApiId=api_id, StageName="$default")["DefaultRouteSettings"]
    assert (limits["ThrottlingRateLimit"], limits["ThrottlingBurstLimit"]) == (50, 100)


@pytest.mark.parametrize(
    ("api", "auth", "credential"),
    [
        ({}, "iam", "--aws-sigv4 aws:amz:us-east-1:execute-api"),
        ({"auth": "jwt", "jwt_issuer": ISSUER, "jwt_audience": ["web"]}, "jwt",
         '"Authorization: Bearer $TOKEN"'),
        ({"auth": "api_key"}, "api_key", '"x-api-key: $API_KEY"'),
        ({"auth": "none"}, "none", ""),
    ],
)  # fmt: skip
def test_endpoints_give_the_url_and_a_request_that_works_for_the_auth_mode(
    aws: AwsContext, api: dict[str, Any], auth: str, credential: str
) -> None:
    store = deployed(aws, **api)

    (endpoint,) = engine.endpoints(store.load())

    base = store.load()["http_api/public/api"].outputs["endpoint"]
    assert (endpoint.node, endpoint.method, endpoint.path) == (
        "http_api:public",
        "POST",
        "/orders/{id}",
    )
    assert endpoint.url == f"{base}/orders/example-id"
    assert endpoint.auth == auth
    assert endpoint.example.startswith(f"curl -X POST {endpoint.url} ")
    assert credential in endpoint.example
    assert '-d \'{"prompt": "Hello"}\'' in endpoint.example
    if auth == "none":
        assert "Authorization" not in endpoint.example and "x-api-key" not in endpoint.example
