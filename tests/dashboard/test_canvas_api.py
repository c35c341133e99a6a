"""The canvas's JSON API: state, edits with a version, refusals, and the engine's explanations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dashboard import services
from dashboard.models import Agent, Component, DeployedResource, Deployment, Link, Project
from tests.dashboard.view_fixtures import (  # noqa: F401 (fixtures)
    htmx,
    owner_client_fixture,
    owner_fixture,
    project_fixture,
    viewer_client_fixture,
)

pytestmark = pytest.mark.django_db


def post(client: Client, name: str, *args: Any, **body: Any) -> Any:
    return client.post(
        reverse(name, args=["acme", *args]), json.dumps(body), content_type="application/json"
    )


def state(client: Client) -> dict[str, Any]:
    response = client.get(reverse("canvas_state", args=["acme"]))
    assert response.status_code == 200
    return response.json()


def add(client: Client, kind: str, x: int = 10, y: int = 20) -> dict[str, Any]:
    version = state(client)["version"]
    response = post(client, "canvas_node_add", kind=kind, x=x, y=y, version=version)
    assert response.status_code == 200, response.content
    return response.json()


def test_nodes_added_from_the_palette_get_free_names_and_their_places(
    owner_client: Client, project: Project
) -> None:
    # Given an empty canvas
    # When the user adds two agents and a bucket
    first = add(owner_client, "agent", 100, 80)
    second = add(owner_client, "agent", 300, 80)
    bucket = add(owner_client, "bucket", 200, 240)
    # Then each has a name of its own and sits where it was dropped
    assert (first["key"], second["key"], bucket["key"]) == (
        "agent:agent-1",
        "agent:agent-2",
        "bucket:bucket-1",
    )
    nodes = {n["key"]: n for n in state(owner_client)["nodes"]}
    assert (nodes["agent:agent-2"]["x"], nodes["agent:agent-2"]["y"]) == (300, 80)
    assert nodes["bucket:bucket-1"]["label"] == "S3 bucket"


def test_moving_nodes_is_saved_and_bumps_the_version(
    owner_client: Client, project: Project
) -> None:
    add(owner_client, "agent")
    add(owner_client, "queue")
    before = state(owner_client)["version"]
    # When two nodes move in one request
    response = post(
        owner_client,
        "canvas_nodes_move",
        version=before,
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


def test_a_stale_version_is_refused_with_a_clear_message(
    owner_client: Client, project: Project
) -> None:
    # Given a tab that saw version v, and an edit made since in another tab
    add(owner_client, "agent")
    seen = state(owner_client)["version"]
    assert (
        post(owner_client, "canvas_node_add", kind="bucket", x=0, y=0, version=seen).status_code
        == 200
    )
    # When the first tab moves a node with the version it saw
    response = post(
        owner_client,
        "canvas_nodes_move",
        version=seen,
        moves=[{"key": "agent:agent-1", "x": 9, "y": 9}],
    )
    # Then it is refused, told why, and nothing moved
    assert response.status_code == 409
    assert "changed in another tab or by someone else" in response.json()["error"]
    assert response.json()["version"] == seen + 1
    assert Agent.objects.values_list("x", "y").get() == (10, 20)


def test_an_edit_without_a_version_is_refused(owner_client: Client, project: Project) -> None:
    response = post(owner_client, "canvas_node_add", kind="agent", x=0, y=0)
    assert response.status_code == 400
    assert "version" in response.json()["error"]
    assert not Agent.objects.exists()


def test_linking_two_nodes_takes_the_default_kind_or_the_chosen_one(
    owner_client: Client, project: Project
) -> None:
    add(owner_client, "agent")
    add(owner_client, "bucket")
    add(owner_client, "table")
    version = state(owner_client)["version"]
    # When the agent is linked to the bucket with no kind, and to the table as read-only
    default = post(
        owner_client,
        "canvas_link_add",
        source="agent:agent-1",
        target="bucket:bucket-1",
        version=version,
    )
    chosen = post(
        owner_client,
        "canvas_link_add",
        source="agent:agent-1",
        target="table:table-1",
        kind="read",
        version=default.json()["version"],
    )
    # Then both exist with their kinds, and the state offers both kinds for a chooser
    assert default.json()["kind"] == "read_write"
    assert chosen.json()["kind"] == "read"
    canvas = state(owner_client)
    assert {(link["target"], link["kind"]) for link in canvas["links"]} == {
        ("bucket:bucket-1", "read_write"),
        ("table:table-1", "read"),
    }
    offered = canvas["rules"]["agent>bucket"]
    assert offered[0] == "read_write" and "read" in offered


def test_an_impossible_link_is_refused_with_the_reason(
    owner_client: Client, project: Project
) -> None:
    add(owner_client, "bucket")
    add(owner_client, "queue")
    version = state(owner_client)["version"]
    response = post(
        owner_client,
        "canvas_link_add",
        source="bucket:bucket-1",
        target="queue:queue-1",
        version=version,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "a bucket cannot be linked to a queue"
    assert not Link.objects.exists()


def test_deleting_a_node_takes_its_links_and_undo_restores_both(
    owner_client: Client, project: Project
) -> None:
    add(owner_client, "agent")
    add(owner_client, "http_api")
    version = state(owner_client)["version"]
    post(
        owner_client,
        "canvas_link_add",
        source="http_api:api-1",
        target="agent:agent-1",
        version=version,
    )
    node = next(n for n in state(owner_client)["nodes"] if n["key"] == "agent:agent-1")
    services.agent_update(
        agent=Agent.objects.get(), user=None, data={"memory_mb": 2048, "tools": ["calculator"]}
    )
    node = next(n for n in state(owner_client)["nodes"] if n["key"] == "agent:agent-1")
    # When the agent is deleted
    deleted = post(
        owner_client, "canvas_node_delete", "agent:agent-1", version=state(owner_client)["version"]
    )
    assert deleted.status_code == 200
    assert not Agent.objects.exists() and not Link.objects.exists()
    # And the deletion is undone with what the canvas knew about it
    restored = post(
        owner_client,
        "canvas_node_add",
        kind="agent",
        x=node["x"],
        y=node["y"],
        data=node["data"],
        links=[{"source": "http_api:api-1", "target": "agent:agent-1", "kind": "route"}],
        version=deleted.json()["version"],
    )
    # Then the agent is back as it was, with its link
    assert restored.status_code == 200, restored.content
    agent = Agent.objects.get()
    assert (agent.name, agent.memory_mb, agent.tools) == ("agent-1", 2048, ["calculator"])
    assert Link.objects.filter(source="http_api:api-1", target="agent:agent-1").exists()


def test_deleting_a_link(owner_client: Client, project: Project) -> None:
    add(owner_client, "agent")
    add(owner_client, "queue")
    version = state(owner_client)["version"]
    made = post(
        owner_client,
        "canvas_link_add",
        source="agent:agent-1",
        target="queue:queue-1",
        version=version,
    )
    response = post(
        owner_client, "canvas_link_delete", made.json()["id"], version=made.json()["version"]
    )
    assert response.status_code == 200
    assert not Link.objects.exists()


def test_a_node_updated_from_json_is_renamed_with_its_links(
    owner_client: Client, project: Project
) -> None:
    add(owner_client, "agent")
    add(owner_client, "topic")
    version = state(owner_client)["version"]
    made = post(
        owner_client,
        "canvas_link_add",
        source="agent:agent-1",
        target="topic:topic-1",
        version=version,
    )
    response = post(
        owner_client,
        "canvas_node_update",
        "topic:topic-1",
        data={"name": "alerts", "settings": {"fifo": True}},
        version=made.json()["version"],
    )
    assert response.json()["key"] == "topic:alerts"
    assert Component.objects.get().settings["fifo"] is True
    assert Link.objects.get().target == "topic:alerts"


def test_a_viewer_sees_the_canvas_but_cannot_change_it(
    owner_client: Client, viewer_client: Client, project: Project
) -> None:
    add(owner_client, "agent")
    # A viewer reads the state, marked read-only
    canvas = state(viewer_client)
    assert canvas["can_edit"] is False and canvas["role"] == "viewer"
    version = canvas["version"]
    # But every edit is forbidden, with a reason
    attempts = [
        post(viewer_client, "canvas_node_add", kind="bucket", x=0, y=0, version=version),
        post(
            viewer_client,
            "canvas_nodes_move",
            version=version,
            moves=[{"key": "agent:agent-1", "x": 1, "y": 1}],
        ),
        post(viewer_client, "canvas_node_delete", "agent:agent-1", version=version),
        post(
            viewer_client,
            "canvas_node_update",
            "agent:agent-1",
            data={"memory_mb": 256},
            version=version,
        ),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 403]
    assert "read-only" in attempts[0].json()["error"]
    panel = viewer_client.get(reverse("canvas_node_panel", args=["acme", "agent:agent-1"]))
    assert panel.status_code == 403
    assert Agent.objects.values_list("x", "y", "memory_mb").get() == (10, 20, 1024)
    assert Project.objects.get().version == version


def test_a_stranger_does_not_learn_the_project_exists(
    client: Client, django_user_model: Any, project: Project
) -> None:
    client.force_login(django_user_model.objects.create_user("sam", password="x-y-z-123456"))
    assert client.get(reverse("canvas_state", args=["acme"])).status_code == 404


def test_link_explain_returns_the_engines_statements_and_environment(
    owner_client: Client, project: Project
) -> None:
    add(owner_client, "agent")
    add(owner_client, "bucket")
    version = state(owner_client)["version"]
    made = post(
        owner_client,
        "canvas_link_add",
        source="agent:agent-1",
        target="bucket:bucket-1",
        kind="read",
        version=version,
    )
    # When the user inspects the link
    response = owner_client.get(reverse("canvas_link_explain", args=["acme", made.json()["id"]]))
    # Then they see the IAM actions and environment variables it grants, as the engine made them
    explained = response.json()
    actions = {a for s in explained["statements"] for a in _actions(s)}
    assert "s3:GetObject" in actions and "s3:ListBucket" in actions
    assert "s3:PutObject" not in actions  # read only
    assert any("BUCKET" in name for name in explained["environment"])


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def test_node_explain_lists_what_the_agent_creates_and_what_exists(
    owner_client: Client, project: Project
) -> None:
    add(owner_client, "agent")
    stage = project.stages.get()
    DeployedResource.objects.create(
        stage=stage,
        logical_id="agent/agent-1/function",
        type="lambda:function",
        physical_id="acme-dev-agent-1",
        node="agent:agent-1",
    )
    response = owner_client.get(reverse("canvas_node_explain", args=["acme", "agent:agent-1"]))
    explained = response.json()
    assert {r["type"] for r in explained["creates"]} >= {
        "iam:role",
        "logs:log-group",
        "lambda:function",
    }
    assert any("bedrock:InvokeModel" in _actions(s) for s in explained["statements"])
    assert [r["physical_id"] for r in explained["deployed"]] == ["acme-dev-agent-1"]


def test_state_maps_resources_to_nodes_and_badges_problems(
    owner_client: Client, project: Project
) -> None:
    add(owner_client, "agent")
    add(owner_client, "queue")
    version = state(owner_client)["version"]
    post(
        owner_client,
        "canvas_node_update",
        "queue:queue-1",
        data={"settings": {"visibility_timeout_s": 10}},
        version=version,
    )
    post(
        owner_client,
        "canvas_link_add",
        source="queue:queue-1",
        target="agent:agent-1",
        version=state(owner_client)["version"],
    )
    canvas = state(owner_client)
    # Each of the engine's resources belongs to a node, so deploy events can colour it
    assert canvas["resources"]["agent/agent-1/function"] == "agent:agent-1"
    assert canvas["resources"]["queue/queue-1"] == "queue:queue-1"
    # And the engine's complaint about the queue shows on the queue
    queue = next(n for n in canvas["nodes"] if n["key"] == "queue:queue-1")
    assert any(p["level"] == "error" and "timeout" in p["message"] for p in queue["problems"])


def test_deploy_from_the_canvas_starts_a_run(owner_client: Client, project: Project) -> None:
    add(owner_client, "agent")
    add(owner_client, "http_api")
    post(
        owner_client,
        "canvas_link_add",
        source="http_api:api-1",
        target="agent:agent-1",
        version=state(owner_client)["version"],
    )
    response = post(owner_client, "canvas_deploy", "dev")
    assert response.status_code == 200, response.content
    run = Deployment.objects.get()
    assert response.json()["ws"] == f"/ws/deployments/{run.pk}/"
    assert state(owner_client)["deployment"]["id"] == run.pk


def test_the_side_panel_shows_the_form_and_its_errors_inline(
    owner_client: Client, project: Project
) -> None:
    add(owner_client, "agent")
    url = reverse("canvas_node_panel", args=["acme", "agent:agent-1"])
    page = owner_client.get(url, **htmx())
    assert page.status_code == 200 and b'id="agent-form"' in page.content
    data = {
        "version": state(owner_client)["version"],
        "name": "agent-1",
        "model_id": "m",
        "system_prompt": "p",
        "runtime": "python3.12",
        "architecture": "x86_64",
        "memory_mb": "64",
        "timeout_s": "30",
    }
    refused = owner_client.post(url, data, **htmx())
    assert refused.status_code == 400
    assert b"greater than or equal to 128" in refused.content
    saved = owner_client.post(url, {**data, "memory_mb": "256"}, **htmx())
    assert saved.status_code == 200
    assert "canvas:changed" in saved["HX-Trigger"]
    assert Agent.objects.get().memory_mb == 256
