"""The API's projects, stages, blueprint, members and project files, with a bearer token."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from dashboard.projects.models import Project, Stage
from dashboard.runs.models import DeployedResource
from tests.dashboard.api_fixtures import (  # noqa: F401 (fixtures)
    ApiClient,
    api_fixture,
    owner_fixture,
    project_fixture,
    stranger_api_fixture,
    viewer_api_fixture,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_windows() -> None:
    cache.clear()


def test_projects_are_listed_created_read_and_deleted(api: ApiClient) -> None:
    assert [p["name"] for p in api.get("/api/projects").json()] == ["acme"]
    made = api.post("/api/projects", {"name": "beta", "description": "second"})
    assert made.status_code == 201 and made.json()["stages"] == ["dev"]
    assert api.get("/api/projects/beta").json()["description"] == "second"
    assert api.delete("/api/projects/beta").status_code == 204
    assert api.get("/api/projects/beta").status_code == 404


def test_a_refusal_comes_back_as_json_with_the_services_words(api: ApiClient) -> None:
    answer = api.post("/api/projects", {"name": "acme"})
    assert answer.status_code == 400
    assert answer.json() == {"error": "a project named 'acme' already exists", "field": "name"}
    malformed = api.post("/api/projects", {"description": "no name"})
    assert malformed.status_code == 400 and malformed.json()["field"] == "name"


def test_strangers_get_404_for_a_project_they_are_not_in(stranger_api: ApiClient) -> None:
    assert stranger_api.get("/api/projects").json() == []
    for path in ("/api/projects/acme", "/api/projects/acme/agents", "/api/projects/acme/runs"):
        assert stranger_api.get(path).status_code == 404


def test_viewers_read_but_do_not_edit(viewer_api: ApiClient) -> None:
    assert viewer_api.get("/api/projects/acme/agents").status_code == 200
    answer = viewer_api.post("/api/projects/acme/agents", {"data": {"name": "bot"}})
    assert answer.status_code == 403


def test_stages_are_read_and_changed_by_owners(api: ApiClient, viewer_api: ApiClient) -> None:
    assert [s["name"] for s in api.get("/api/projects/acme/stages").json()] == ["dev"]
    changed = api.patch(
        "/api/projects/acme/stages/dev", {"region": "eu-west-1", "drift_check_hours": 6}
    )
    assert changed.status_code == 200
    assert changed.json()["region"] == "eu-west-1" and changed.json()["drift_check_hours"] == 6
    refused = api.patch("/api/projects/acme/stages/dev", {"region": "mars-1"})
    assert refused.status_code == 400 and refused.json()["field"] == "region"
    assert viewer_api.patch("/api/projects/acme/stages/dev", {"protected": True}).status_code == 403


def test_stage_status_lists_each_route_of_the_deployed_http_apis(
    api: ApiClient, project: Project
) -> None:
    stage = Stage.objects.get(project=project)
    DeployedResource.objects.create(
        stage=stage, logical_id="http_api/web/api", type="apigw:api", physical_id="abc",
        node="http_api:web", outputs={"api_id": "abc", "endpoint": "https://abc.example"},
    )  # fmt: skip
    DeployedResource.objects.create(
        stage=stage, logical_id="http_api/web/route", type="apigw:route", physical_id="r1",
        node="http_api:web",
        properties={"api_id": "abc", "route_key": "POST /chat", "authorization_type": "NONE"},
    )  # fmt: skip
    status = api.get("/api/projects/acme/stages/dev/status").json()
    assert status["resources"] == 2 and status["last_run"] is None
    (endpoint,) = status["endpoints"]
    assert (endpoint["node"], endpoint["method"], endpoint["auth"]) == (
        "http_api:web",
        "POST",
        "none",
    )
    assert endpoint["url"] == "https://abc.example/chat"
    assert endpoint["example"].startswith("curl -X POST https://abc.example/chat")


def test_agents_components_and_links_round_trip(api: ApiClient, project: Project) -> None:
    agent = api.post("/api/projects/acme/agents", {"data": {"name": "support"}})
    assert agent.status_code == 201 and agent.json()["key"] == "agent:support"
    table = api.post("/api/projects/acme/components", {"kind": "table", "name": "orders"})
    assert table.status_code == 201
    link = api.post(
        "/api/projects/acme/links", {"source": "agent:support", "target": "table:orders"}
    )
    assert link.status_code == 201
    assert [x["id"] for x in api.get("/api/projects/acme/links").json()] == [link.json()["id"]]
    bad = api.patch(f"/api/projects/acme/links/{link.json()['id']}", {"settings": {"nope": 1}})
    assert bad.status_code == 400 and "nope" in bad.json()["error"]
    renamed = api.patch("/api/projects/acme/agents/support", {"data": {"name": "helper"}})
    assert renamed.json()["name"] == "helper"
    assert api.get("/api/projects/acme/links").json()[0]["source"] == "agent:helper"
    assert api.get("/api/projects/acme/agents/helper").json()["secret_names"] == []
    assert api.delete(f"/api/projects/acme/links/{link.json()['id']}").status_code == 204
    assert api.delete("/api/projects/acme/components/table/orders").status_code == 204
    assert api.delete("/api/projects/acme/agents/helper").status_code == 204
    assert api.get("/api/projects/acme/agents").json() == []


def test_an_edit_with_a_stale_version_is_409(api: ApiClient, project: Project) -> None:
    seen = api.get("/api/projects/acme").json()["version"]
    api.post("/api/projects/acme/agents", {"data": {"name": "first"}})
    late = api.post("/api/projects/acme/agents", {"version": seen, "data": {"name": "second"}})
    assert late.status_code == 409
    assert "changed by someone else" in late.json()["error"]


def test_members_are_invited_changed_and_removed(
    api: ApiClient, viewer_api: ApiClient, django_user_model: Any
) -> None:
    django_user_model.objects.create_user("dora", password="dora-password-1")
    assert viewer_api.post("/api/projects/acme/members", {"username": "dora"}).status_code == 403
    invited = api.post("/api/projects/acme/members", {"username": "dora", "role": "deployer"})
    assert invited.status_code == 201
    promoted = api.patch("/api/projects/acme/members/dora", {"role": "owner"})
    assert promoted.json() == {"username": "dora", "role": "owner"}
    assert api.delete("/api/projects/acme/members/dora").status_code == 204
    names = {m["username"] for m in api.get("/api/projects/acme/members").json()}
    assert names == {"alice", "victor"}


def test_the_project_file_is_exported_previewed_and_applied(api: ApiClient) -> None:
    api.post("/api/projects/acme/agents", {"data": {"name": "support"}})
    text = api.get("/api/projects/acme/file").content.decode()
    assert "support" in text
    renamed = text.replace("name: acme", "name: acme-two", 1)
    preview = api.post("/api/files/preview", {"text": renamed})
    assert preview.status_code == 200 and preview.json()["exists"] is False
    assert any(c["key"] == "agent:support" for c in preview.json()["changes"])
    applied = api.post("/api/files/apply", {"text": renamed})
    assert applied.status_code == 200
    assert api.get("/api/projects/acme-two/agents/support").status_code == 200


def test_a_broken_project_file_lists_its_problems_at_their_lines(api: ApiClient) -> None:
    answer = api.post("/api/files/preview", {"text": "version: 1\nproject: [unclosed\n"})
    assert answer.status_code == 400
    problems = answer.json()["problems"]
    assert problems and {"line", "column", "path", "message"} <= set(problems[0])
