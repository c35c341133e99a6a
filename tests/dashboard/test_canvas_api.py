"""The canvas's JSON API: state, edits with a version, refusals, and the engine's explanations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Component, Link, Project
from dashboard.runs.models import DeployedResource, Deployment
from tests.dashboard.view_fixtures import (  # noqa: F401 (fixtures)
    htmx,
    owner_client_fixture,
    owner_fixture,
    project_fixture,
    stranger_client_fixture,
    viewer_client_fixture,
)

pytestmark = pytest.mark.django_db


class Canvas:
    """Acme's canvas as one open tab: an edit sends the version of the last answer that
    carried one, as the page's script does, so an answer with a wrong version shows up
    as a refused next edit."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.version: int | None = None

    def url(self, name: str, *args: Any) -> str:
        return reverse(name, args=["acme", *args])

    def get(self, name: str, *args: Any, **headers: Any) -> Any:
        return self.client.get(self.url(name, *args), **headers)

    def state(self) -> dict[str, Any]:
        response = self.get("canvas_state")
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        self.version = body["version"]
        return body

    def node(self, key: str) -> dict[str, Any]:
        return next(n for n in self.state()["nodes"] if n["key"] == key)

    def post(self, name: str, *args: Any, **body: Any) -> Any:
        """A JSON request exactly as given, with a version or without one."""
        response = self.client.post(
            self.url(name, *args), json.dumps(body), content_type="application/json"
        )
        is_json = response.get("Content-Type", "").startswith("application/json")
        answer = response.json() if is_json else {}
        if isinstance(answer.get("version"), int):
            self.version = answer["version"]
        return response

    def edit(self, name: str, *args: Any, **body: Any) -> Any:
        if self.version is None:
            self.state()
        return self.post(name, *args, version=self.version, **body)

    def add(self, kind: str, x: int = 10, y: int = 20) -> dict[str, Any]:
        response = self.edit("canvas_node_add", kind=kind, x=x, y=y)
        assert response.status_code == 200, response.content
        return response.json()

    def link(self, source: str, target: str, **kind: str) -> dict[str, Any]:
        response = self.edit("canvas_link_add", source=source, target=target, **kind)
        assert response.status_code == 200, response.content
        return response.json()


@pytest.fixture(name="canvas")
def canvas_fixture(owner_client: Client, project: Project) -> Canvas:
    return Canvas(owner_client)


@pytest.fixture(name="viewer_canvas")
def viewer_canvas_fixture(viewer_client: Client) -> Canvas:
    return Canvas(viewer_client)


def test_nodes_added_from_the_palette_get_free_names_and_their_places(canvas: Canvas) -> None:
    # Given an empty canvas
    # When the user adds two agents and a bucket
    first = canvas.add("agent", 100, 80)
    second = canvas.add("agent", 300, 80)
    bucket = canvas.add("bucket", 200, 240)
    # Then each has a name of its own and sits where it was dropped
    assert (first["key"], second["key"], bucket["key"]) == (
        "agent:agent-1",
        "agent:agent-2",
        "bucket:bucket-1",
    )
    nodes = {n["key"]: n for n in canvas.state()["nodes"]}
    assert (nodes["agent:agent-2"]["x"], nodes["agent:agent-2"]["y"]) == (300, 80)
    assert nodes["bucket:bucket-1"]["label"] == "S3 bucket"


def test_moving_nodes_is_saved_and_bumps_the_version(canvas: Canvas) -> None:
    canvas.add("agent")
    canvas.add("queue")
    before = canvas.state()["version"]
    # When two nodes move in one request
    response = canvas.edit(
        "canvas_nodes_move",
        moves=[
            {"key": "agent:agent-1", "x": 412.6, "y": 90},
            {"key": "queue:queue-1", "x": 5, "y": 6},
        ],
    )
    # Then the new places are stored and the answer carries the new version
    assert response.status_code == 200
    assert response.json()["version"] > before
    assert Agent.objects.values_list("x", "y").get() == (413, 90)
    assert Component.objects.values_list("x", "y").get() == (5, 6)


def test_a_stale_version_is_refused_with_a_clear_message(canvas: Canvas) -> None:
    # Given a tab that saw version v, and an edit made since in another tab
    canvas.add("agent")
    seen = canvas.state()["version"]
    Canvas(canvas.client).add("bucket", 0, 0)
    # When the first tab moves a node with the version it saw
    response = canvas.edit("canvas_nodes_move", moves=[{"key": "agent:agent-1", "x": 9, "y": 9}])
    # Then it is refused, told why, and nothing moved
    assert response.status_code == 409
    assert "changed in another tab or by someone else" in response.json()["error"]
    assert response.json()["version"] == seen + 1
    assert Agent.objects.values_list("x", "y").get() == (10, 20)


def test_an_edit_without_a_version_is_refused(canvas: Canvas) -> None:
    response = canvas.post("canvas_node_add", kind="agent", x=0, y=0)
    assert response.status_code == 400
    assert "version" in response.json()["error"]
    assert not Agent.objects.exists()


def test_linking_two_nodes_takes_the_default_kind_or_the_chosen_one(canvas: Canvas) -> None:
    for kind in ("agent", "bucket", "table"):
        canvas.add(kind)
    # When the agent is linked to the bucket with no kind, and to the table as read-only
    default = canvas.link("agent:agent-1", "bucket:bucket-1")
    chosen = canvas.link("agent:agent-1", "table:table-1", kind="read")
    # Then both exist with their kinds, and the state offers both kinds for a chooser
    assert default["kind"] == "read_write"
    assert chosen["kind"] == "read"
    state = canvas.state()
    assert {(link["target"], link["kind"]) for link in state["links"]} == {
        ("bucket:bucket-1", "read_write"),
        ("table:table-1", "read"),
    }
    offered = state["rules"]["agent>bucket"]
    assert offered[0] == "read_write" and "read" in offered


def test_an_impossible_link_is_refused_with_the_reason(canvas: Canvas) -> None:
    canvas.add("bucket")
    canvas.add("queue")
    response = canvas.edit("canvas_link_add", source="bucket:bucket-1", target="queue:queue-1")
    assert response.status_code == 400
    assert response.json()["error"] == "a bucket cannot be linked to a queue"
    assert not Link.objects.exists()


def test_deleting_a_node_takes_its_links_and_undo_restores_both(canvas: Canvas) -> None:
    canvas.add("agent")
    canvas.add("http_api")
    canvas.link("http_api:api-1", "agent:agent-1")
    project_services.agent_update(
        agent=Agent.objects.get(), user=None, data={"memory_mb": 2048, "tools": ["calculator"]}
    )
    node = canvas.node("agent:agent-1")
    # When the agent is deleted
    deleted = canvas.edit("canvas_node_delete", "agent:agent-1")
    assert deleted.status_code == 200
    assert not Agent.objects.exists() and not Link.objects.exists()
    # And the deletion is undone with what the canvas knew about it
    restored = canvas.edit(
        "canvas_node_add",
        kind="agent",
        x=node["x"],
        y=node["y"],
        data=node["data"],
        links=[{"source": "http_api:api-1", "target": "agent:agent-1", "kind": "route"}],
    )
    # Then the agent is back as it was, with its link
    assert restored.status_code == 200, restored.content
    agent = Agent.objects.get()
    assert (agent.name, agent.memory_mb, agent.tools) == ("agent-1", 2048, ["calculator"])
    assert Link.objects.filter(source="http_api:api-1", target="agent:agent-1").exists()


def test_deleting_a_link(canvas: Canvas) -> None:
    canvas.add("agent")
    canvas.add("queue")
    made = canvas.link("agent:agent-1", "queue:queue-1")
    response = canvas.edit("canvas_link_delete", made["id"])
    assert response.status_code == 200
    assert not Link.objects.exists()


def test_a_node_updated_from_json_is_renamed_with_its_links(canvas: Canvas) -> None:
    canvas.add("agent")
    canvas.add("topic")
    canvas.link("agent:agent-1", "topic:topic-1")
    response = canvas.edit(
        "canvas_node_update", "topic:topic-1", data={"name": "alerts", "settings": {"fifo": True}}
    )
    assert response.json()["key"] == "topic:alerts"
    assert Component.objects.get().settings["fifo"] is True
    assert Link.objects.get().target == "topic:alerts"


def test_a_bucket_cannot_be_renamed_to_the_stage_s_artifacts_bucket(canvas: Canvas) -> None:
    canvas.add("bucket")

    response = canvas.edit("canvas_node_update", "bucket:bucket-1", data={"name": "artifacts"})

    assert response.status_code == 400
    assert "reserved for the stage's artifacts bucket" in response.json()["error"]
    assert Component.objects.get().name == "bucket-1"


def test_a_viewer_sees_the_canvas_but_cannot_change_it(
    canvas: Canvas, viewer_canvas: Canvas
) -> None:
    canvas.add("agent")
    # A viewer reads the state, marked read-only
    state = viewer_canvas.state()
    assert state["can_edit"] is False and state["role"] == "viewer"
    # But every edit is forbidden, with a reason
    attempts = [
        viewer_canvas.edit("canvas_node_add", kind="bucket", x=0, y=0),
        viewer_canvas.edit("canvas_nodes_move", moves=[{"key": "agent:agent-1", "x": 1, "y": 1}]),
        viewer_canvas.edit("canvas_node_delete", "agent:agent-1"),
        viewer_canvas.edit("canvas_node_update", "agent:agent-1", data={"memory_mb": 256}),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 403]
    assert "read-only" in attempts[0].json()["error"]
    assert viewer_canvas.get("canvas_node_panel", "agent:agent-1").status_code == 403
    assert Agent.objects.values_list("x", "y", "memory_mb").get() == (10, 20, 1024)
    assert Project.objects.get().version == state["version"]


def test_a_stranger_does_not_learn_the_project_exists(
    stranger_client: Client, project: Project
) -> None:
    assert Canvas(stranger_client).get("canvas_state").status_code == 404


def test_link_explain_returns_the_engines_statements_and_environment(canvas: Canvas) -> None:
    canvas.add("agent")
    canvas.add("bucket")
    made = canvas.link("agent:agent-1", "bucket:bucket-1", kind="read")
    # When the user inspects the link
    explained = canvas.get("canvas_link_explain", made["id"]).json()
    # Then they see the IAM actions and environment variables it grants, as the engine made them
    actions = {a for s in explained["statements"] for a in _actions(s)}
    assert "s3:GetObject" in actions and "s3:ListBucket" in actions
    assert "s3:PutObject" not in actions  # read only
    assert any("BUCKET" in name for name in explained["environment"])


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def test_node_explain_lists_what_the_agent_creates_and_what_exists(
    canvas: Canvas, project: Project
) -> None:
    canvas.add("agent")
    DeployedResource.objects.create(
        stage=project.stages.get(),
        logical_id="agent/agent-1/function",
        type="lambda:function",
        physical_id="acme-dev-agent-1",
        node="agent:agent-1",
    )
    explained = canvas.get("canvas_node_explain", "agent:agent-1").json()
    assert {r["type"] for r in explained["creates"]} >= {
        "iam:role",
        "logs:log-group",
        "lambda:function",
    }
    assert any("bedrock:InvokeModel" in _actions(s) for s in explained["statements"])
    assert [r["physical_id"] for r in explained["deployed"]] == ["acme-dev-agent-1"]


def test_state_maps_resources_to_nodes_and_badges_problems(canvas: Canvas) -> None:
    canvas.add("agent")
    canvas.add("queue")
    canvas.edit(
        "canvas_node_update", "queue:queue-1", data={"settings": {"visibility_timeout_s": 10}}
    )
    canvas.link("queue:queue-1", "agent:agent-1")
    state = canvas.state()
    # Each of the engine's resources belongs to a node, so deploy events can colour it
    assert state["resources"]["agent/agent-1/function"] == "agent:agent-1"
    assert state["resources"]["queue/queue-1"] == "queue:queue-1"
    # And the engine's complaint about the queue shows on the queue
    queue = next(n for n in state["nodes"] if n["key"] == "queue:queue-1")
    assert any(p["level"] == "error" and "timeout" in p["message"] for p in queue["problems"])


def test_deploy_from_the_canvas_starts_a_run(canvas: Canvas) -> None:
    canvas.add("agent")
    canvas.add("http_api")
    canvas.link("http_api:api-1", "agent:agent-1")
    response = canvas.post("canvas_deploy", "dev")
    assert response.status_code == 200, response.content
    run = Deployment.objects.get()
    assert response.json()["ws"] == f"/ws/deployments/{run.pk}/"
    assert canvas.state()["deployment"]["id"] == run.pk


def test_the_side_panel_shows_the_form_and_its_errors_inline(canvas: Canvas) -> None:
    canvas.add("agent")
    page = canvas.get("canvas_node_panel", "agent:agent-1", **htmx())
    assert page.status_code == 200 and b'id="agent-form"' in page.content
    data = {
        "version": canvas.state()["version"],
        "name": "agent-1",
        "model_id": "amazon.nova-micro-v1:0",
        "system_prompt": "p",
        "runtime": "python3.12",
        "architecture": "x86_64",
        "memory_mb": "64",
        "timeout_s": "30",
    }
    url = canvas.url("canvas_node_panel", "agent:agent-1")
    refused = canvas.client.post(url, data, **htmx())
    assert refused.status_code == 400
    assert b"greater than or equal to 128" in refused.content
    saved = canvas.client.post(url, {**data, "memory_mb": "256"}, **htmx())
    assert saved.status_code == 200
    assert "canvas:changed" in saved["HX-Trigger"]
    assert Agent.objects.get().memory_mb == 256


def test_state_carries_each_nodes_advice_for_its_marker(canvas: Canvas) -> None:
    canvas.add("agent")
    canvas.add("queue")
    canvas.edit("canvas_node_update", "agent:agent-1", data={"memory_mb": 128})
    canvas.link("queue:queue-1", "agent:agent-1")

    agent = canvas.node("agent:agent-1")

    memory = next(a for a in agent["advice"] if a["code"] == "memory-low")
    assert memory["severity"] == "warning" and memory["fix"] == "set memory_mb to 512"
    assert canvas.node("queue:queue-1")["advice"] == []  # the default visibility: 6x is met
