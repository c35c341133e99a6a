from __future__ import annotations

from typing import Any

import pytest

from provisioning.aws import AwsContext
from provisioning.model.spec import Ref, resolve
from provisioning.provisioners.api_gateway import (
    ApiProvisioner,
    StageProvisioner,
    build_cors_configuration,
)
from provisioning.provisioners.api_gateway_routes import (
    IntegrationProvisioner,
    RouteProvisioner,
    build_catch_all_route,
    build_rest_api_routes,
    build_route,
)
from provisioning.provisioners.base import Action
from provisioning.state import RecordedResource
from tests.provisioning.lifecycle import apply, changed, replan

API_NAME = "acme-dev-public"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:acme-dev-support"


def api_properties(**overrides: Any) -> dict[str, Any]:
    return {
        "name": API_NAME,
        "description": "Public HTTP API",
        "cors": build_cors_configuration(allow_origins=["https://app.example.com"]),
        **overrides,
    }


@pytest.fixture
def api(aws: AwsContext) -> RecordedResource:
    return apply(ApiProvisioner(aws), "http_api/public/api", api_properties())


def integration_properties(api_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "api_id": api_id,
        "integration_uri": FUNCTION_ARN,
        "payload_format_version": "2.0",
        "timeout_ms": 29000,
        **overrides,
    }


def route_properties(api_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "api_id": api_id,
        "route_key": "ANY /support/{proxy+}",
        "target": "integrations/abc1234",
        **overrides,
    }


# --- helpers -------------------------------------------------------------------------------


def test_cors_configuration_is_canonical() -> None:
    assert build_cors_configuration(
        allow_origins=["https://b", "https://a"],
        allow_methods=["post", "GET"],
        allow_headers=["X-Id"],
    ) == {
        "allow_origins": ["https://a", "https://b"],
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["x-id"],
        "max_age": 300,
    }
    with pytest.raises(ValueError):
        build_cors_configuration(max_age=100000)


def test_routes_send_a_method_and_path_to_an_integration() -> None:
    assert build_route("api1", "int1", "post", "/support/invoke") == {
        "api_id": "api1",
        "route_key": "POST /support/invoke",
        "target": "integrations/int1",
    }
    with pytest.raises(ValueError):
        build_route("api1", "int1", "FETCH", "/x")
    with pytest.raises(ValueError):
        build_route("api1", "int1", "GET", "x")


def test_a_route_to_an_integration_still_to_be_made_resolves_later() -> None:
    route = build_route(Ref("api", "api_id"), Ref("int", "integration_id"), "GET", "/x")

    resolved = resolve(route, {"api": {"api_id": "a1"}, "int": {"integration_id": "i9"}})

    assert resolved["target"] == "integrations/i9"
    assert resolved["api_id"] == "a1"


def test_catch_all_route_with_and_without_a_prefix() -> None:
    assert build_catch_all_route("a", "i", "/support/")["route_key"] == "ANY /support/{proxy+}"
    assert build_catch_all_route("a", "i")["route_key"] == "$default"


def test_rest_routes_cover_the_collection_and_its_items() -> None:
    keys = [r["route_key"] for r in build_rest_api_routes("a", "i", "orders")]
    assert keys == [
        "GET /orders",
        "POST /orders",
        "GET /orders/{id}",
        "PUT /orders/{id}",
        "DELETE /orders/{id}",
    ]


# --- apigw:api -----------------------------------------------------------------------------


def test_a_created_api_plans_no_change_and_is_found_by_its_tags(aws: AwsContext) -> None:
    apis = ApiProvisioner(aws)
    aws.client("apigatewayv2").create_api(Name=API_NAME, ProtocolType="HTTP")  # someone else's

    recorded = apply(apis, "http_api/public/api", api_properties())
    again = apis.provision("http_api/public/api", api_properties(), None)

    assert replan(apis, api_properties(), recorded).action is Action.NO_CHANGE
    assert again["api_id"] == recorded.physical_id
    assert len(aws.client("apigatewayv2").get_apis()["Items"]) == 2
    api_id = recorded.physical_id
    assert (
        recorded.outputs["execution_arn"] == f"arn:aws:execute-api:us-east-1:123456789012:{api_id}"
    )
    assert recorded.outputs["endpoint"].startswith(f"https://{api_id}.execute-api.")


def test_cors_written_loosely_still_plans_no_change(aws: AwsContext) -> None:
    apis = ApiProvisioner(aws)
    loose = api_properties(cors={"allow_origins": ["*"], "allow_methods": ["get", "post"]})

    recorded = apply(apis, "http_api/public/api", loose)

    assert replan(apis, loose, recorded).action is Action.NO_CHANGE


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("name", "acme-dev-renamed"),
        ("description", "Changed"),
        ("cors", build_cors_configuration(allow_origins=["*"], max_age=60)),
        ("cors", None),
    ],
)
def test_each_api_property_updates_in_place(
    aws: AwsContext, api: RecordedResource, name: str, value: Any
) -> None:
    apis = ApiProvisioner(aws)
    wanted = api_properties(**{name: value})

    change = replan(apis, wanted, api)
    recorded = apply(apis, api.logical_id, wanted, api)

    assert (change.action, changed(change)) == (Action.UPDATE, [name])
    assert recorded.physical_id == api.physical_id
    assert replan(apis, wanted, recorded).action is Action.NO_CHANGE


def test_an_out_of_band_api_change_shows_in_the_plan(
    aws: AwsContext, api: RecordedResource
) -> None:
    aws.client("apigatewayv2").update_api(ApiId=api.physical_id, Description="edited in console")

    change = replan(ApiProvisioner(aws), api_properties(), api)

    assert changed(change) == ["description"]


def test_destroying_the_api_is_safe_to_repeat(aws: AwsContext, api: RecordedResource) -> None:
    apis = ApiProvisioner(aws)

    apis.destroy(api)
    apis.destroy(api)

    assert apis.get_current_state(api_properties(), api) is None


# --- apigw:integration ---------------------------------------------------------------------


def test_an_integration_updates_in_place_and_is_found_by_its_uri(
    aws: AwsContext, api: RecordedResource
) -> None:
    integrations = IntegrationProvisioner(aws)
    wanted = integration_properties(api.physical_id)
    recorded = apply(integrations, "int", wanted)
    assert replan(integrations, wanted, None).action is Action.NO_CHANGE
    changed_uri = integration_properties(api.physical_id, integration_uri=FUNCTION_ARN + "-2")

    change = replan(integrations, changed_uri, recorded)
    recorded = apply(integrations, "int", changed_uri, recorded)

    assert changed(change) == ["integration_uri"]
    assert replan(integrations, changed_uri, recorded).action is Action.NO_CHANGE


def test_an_out_of_band_integration_timeout_shows_in_the_plan(
    aws: AwsContext, api: RecordedResource
) -> None:
    integrations = IntegrationProvisioner(aws)
    wanted = integration_properties(api.physical_id)
    recorded = apply(integrations, "int", wanted)
    aws.client("apigatewayv2").update_integration(
        ApiId=api.physical_id, IntegrationId=recorded.physical_id, TimeoutInMillis=5000
    )

    change = replan(integrations, wanted, recorded)
    recorded = apply(integrations, "int", wanted, recorded)

    assert changed(change) == ["timeout_ms"]
    assert replan(integrations, wanted, recorded).action is Action.NO_CHANGE


def test_an_integration_moved_to_another_api_is_replaced(
    aws: AwsContext, api: RecordedResource
) -> None:
    integrations = IntegrationProvisioner(aws)
    recorded = apply(integrations, "int", integration_properties(api.physical_id))

    change = replan(integrations, integration_properties("otherapi"), recorded)

    assert change.action is Action.REPLACE


def test_destroying_an_integration_after_its_api_is_a_no_op(
    aws: AwsContext, api: RecordedResource
) -> None:
    integrations = IntegrationProvisioner(aws)
    recorded = apply(integrations, "int", integration_properties(api.physical_id))

    integrations.destroy(recorded)
    integrations.destroy(recorded)
    ApiProvisioner(aws).destroy(api)
    integrations.destroy(recorded)

    assert integrations.get_current_state(None, recorded) is None


# --- apigw:route ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"), [("target", "integrations/xyz9876"), ("route_key", "POST /support")]
)
def test_a_route_updates_in_place(
    aws: AwsContext, api: RecordedResource, name: str, value: str
) -> None:
    routes = RouteProvisioner(aws)
    recorded = apply(routes, "route", route_properties(api.physical_id))
    assert replan(routes, route_properties(api.physical_id), recorded).action is Action.NO_CHANGE
    wanted = route_properties(api.physical_id, **{name: value})

    change = replan(routes, wanted, recorded)
    recorded = apply(routes, "route", wanted, recorded)

    assert (change.action, changed(change)) == (Action.UPDATE, [name])
    assert replan(routes, wanted, recorded).action is Action.NO_CHANGE


def test_a_route_is_found_by_its_key_and_out_of_band_edits_show(
    aws: AwsContext, api: RecordedResource
) -> None:
    routes = RouteProvisioner(aws)
    wanted = route_properties(api.physical_id)
    recorded = apply(routes, "route", wanted)
    aws.client("apigatewayv2").update_route(
        ApiId=api.physical_id, RouteId=recorded.physical_id, Target="integrations/other"
    )

    change = replan(routes, wanted, None)

    assert (change.adopt, changed(change)) == (True, ["target"])


def test_destroying_a_route_after_its_api_is_a_no_op(
    aws: AwsContext, api: RecordedResource
) -> None:
    routes = RouteProvisioner(aws)
    recorded = apply(routes, "route", route_properties(api.physical_id))

    routes.destroy(recorded)
    routes.destroy(recorded)
    ApiProvisioner(aws).destroy(api)
    routes.destroy(recorded)

    assert routes.get_current_state(None, recorded) is None


# --- apigw:stage ---------------------------------------------------------------------------


def test_a_stage_deploys_at_the_api_url_and_toggles_auto_deploy(
    aws: AwsContext, api: RecordedResource
) -> None:
    stages = StageProvisioner(aws)
    wanted = {"api_id": api.physical_id, "name": "$default", "auto_deploy": True}
    recorded = apply(stages, "stage", wanted)
    manual = {**wanted, "auto_deploy": False}

    change = replan(stages, manual, recorded)
    recorded = apply(stages, "stage", manual, recorded)

    assert recorded.outputs["url"] == api.outputs["endpoint"] + "/"
    assert recorded.physical_id == f"{api.physical_id}/$default"
    assert (change.action, changed(change)) == (Action.UPDATE, ["auto_deploy"])
    assert replan(stages, manual, recorded).action is Action.NO_CHANGE


def test_an_out_of_band_stage_change_shows_and_destroy_is_safe_to_repeat(
    aws: AwsContext, api: RecordedResource
) -> None:
    stages = StageProvisioner(aws)
    wanted = {"api_id": api.physical_id, "name": "$default", "auto_deploy": True}
    recorded = apply(stages, "stage", wanted)
    gw = aws.client("apigatewayv2")
    gw.delete_stage(ApiId=api.physical_id, StageName="$default")  # moto has no update_stage
    gw.create_stage(ApiId=api.physical_id, StageName="$default", AutoDeploy=False)

    change = replan(stages, wanted, recorded)
    stages.destroy(recorded)
    stages.destroy(recorded)
    ApiProvisioner(aws).destroy(api)
    stages.destroy(recorded)

    assert changed(change) == ["auto_deploy"]
    assert stages.get_current_state(wanted, recorded) is None
