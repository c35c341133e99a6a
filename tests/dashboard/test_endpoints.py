"""A stage's endpoints, read from its recorded rows: on the run page, the project page, the
canvas, `manage.py status` and the REST API's stage status."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from dashboard.projects import services as project_services
from dashboard.projects.models import Project, Stage
from dashboard.runs import selectors as run_selectors
from dashboard.runs.models import DeployedResource, Deployment
from tests.dashboard.view_fixtures import (  # noqa: F401 (fixtures)
    owner_client_fixture,
    owner_fixture,
    project_fixture,
)

pytestmark = pytest.mark.django_db

API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com"
AUTHORIZATION = {"iam": "AWS_IAM", "api_key": "CUSTOM", "none": "NONE"}


def deployed_api(
    stage: Stage, *, auth: str = "iam", routes: tuple[str, ...] = ("POST /support",)
) -> None:
    """The rows a deploy of HTTP API "public" records: the API and one row per route."""
    DeployedResource.objects.create(
        stage=stage, logical_id="http_api/public/api", type="apigw:api", physical_id="abc123",
        node="http_api:public",
        outputs={"api_id": "abc123", "endpoint": API_URL,
                 "execution_arn": "arn:aws:execute-api:eu-west-1:123456789012:abc123"},
    )  # fmt: skip
    for i, route in enumerate(routes):
        DeployedResource.objects.create(
            stage=stage, logical_id=f"http_api/public/route{i}", type="apigw:route",
            physical_id=f"r{i}", node="http_api:public",
            properties={"api_id": "abc123", "route_key": route,
                        "authorization_type": AUTHORIZATION[auth]},
        )  # fmt: skip


def dev(project: Project) -> Stage:
    return project.stages.get(name="dev")


@pytest.mark.parametrize(
    ("auth", "credential"),
    [
        ("iam", "--aws-sigv4 aws:amz:eu-west-1:execute-api"),
        ("api_key", '-H "x-api-key: $API_KEY"'),
        ("none", ""),
    ],
)
def test_the_stage_endpoints_come_from_its_recorded_rows(
    project: Project, auth: str, credential: str
) -> None:
    deployed_api(dev(project), auth=auth)

    (endpoint,) = run_selectors.stage_endpoints(stage=dev(project))

    assert (endpoint.node, endpoint.method, endpoint.auth) == ("http_api:public", "POST", auth)
    assert endpoint.url == f"{API_URL}/support"
    assert endpoint.example.startswith(f"curl -X POST {API_URL}/support")
    assert credential in endpoint.example
    if auth == "none":
        assert "x-api-key" not in endpoint.example and "sigv4" not in endpoint.example


def test_a_stage_never_deployed_has_no_endpoints(project: Project) -> None:
    assert run_selectors.stage_endpoints(stage=dev(project)) == []


def test_the_run_page_of_a_finished_deploy_shows_each_route_with_copy_buttons(
    owner_client: Client, project: Project
) -> None:
    deployed_api(dev(project), routes=("POST /support", "GET /health"))
    run = Deployment.objects.create(
        stage=dev(project), project_name="acme", stage_name="dev", kind="deploy",
        status="SUCCEEDED", triggered_by_name="olivia",
    )  # fmt: skip

    page = owner_client.get(reverse("deployment_detail", args=[run.pk])).content.decode()

    assert f"{API_URL}/support" in page and f"{API_URL}/health" in page
    assert page.count("data-endpoint ") == 2
    assert page.count('<pre class="example"') == 2 and "curl -X GET" in page
    assert "Copy URL" in page and "Copy request" in page and "js/copy.js" in page


def test_a_running_deploy_shows_no_endpoints_yet(owner_client: Client, project: Project) -> None:
    deployed_api(dev(project))
    run = Deployment.objects.create(
        stage=dev(project), project_name="acme", stage_name="dev", kind="deploy",
        status="RUNNING", triggered_by_name="olivia",
    )  # fmt: skip

    page = owner_client.get(reverse("deployment_detail", args=[run.pk])).content.decode()

    assert f"{API_URL}/support" not in page


def test_the_project_page_shows_the_url_on_the_stage_row(
    owner_client: Client, project: Project
) -> None:
    deployed_api(dev(project))

    page = owner_client.get(reverse("project_detail", args=["acme"])).content.decode()

    assert f'data-copy="{API_URL}/support"' in page


def test_the_canvas_http_api_node_carries_its_endpoints(
    owner_client: Client, project: Project, owner: Any
) -> None:
    project_services.component_create(project=project, user=owner, kind="http_api", name="public")
    project_services.component_create(project=project, user=owner, kind="queue", name="jobs")
    deployed_api(dev(project), auth="none")

    state = owner_client.get(reverse("canvas_state", args=["acme"])).json()

    nodes = {node["key"]: node for node in state["nodes"]}
    assert nodes["http_api:public"]["endpoints"] == [
        {"method": "POST", "url": f"{API_URL}/support", "auth": "none"}
    ]
    assert "endpoints" not in nodes["queue:jobs"]


def test_status_prints_the_endpoints_and_as_json_for_scripts(project: Project) -> None:
    deployed_api(dev(project), auth="api_key")
    lines, as_json = StringIO(), StringIO()

    call_command("status", "acme", stdout=lines)
    call_command("status", "acme", "--json", stdout=as_json)

    assert f"POST   {API_URL}/support  auth=api_key" in lines.getvalue()
    status = json.loads(as_json.getvalue())
    assert set(status) == {"stage", "last_run", "resources", "endpoints"}
    assert status["stage"]["name"] == "dev" and status["last_run"] is None
    assert len(status["resources"]) == 2
    assert status["endpoints"][0]["url"] == f"{API_URL}/support"
    assert '"x-api-key: $API_KEY"' in status["endpoints"][0]["example"]


def test_an_older_deploy_s_page_does_not_show_what_a_later_run_changed(
    owner_client: Client, project: Project
) -> None:
    deployed_api(dev(project))
    older, _later = (
        Deployment.objects.create(
            stage=dev(project),
            project_name="acme",
            stage_name="dev",
            kind=kind,
            status="SUCCEEDED",
            triggered_by_name="olivia",
        )
        for kind in ("deploy", "destroy")
    )

    page = owner_client.get(reverse("deployment_detail", args=[older.pk])).content.decode()

    assert f"{API_URL}/support" not in page
