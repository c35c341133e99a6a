"""Malformed bodies sent to the canvas's JSON endpoints: a 400 (or 413) that says what is
wrong, and nothing stored. Each case here was a 500 before the bodies had schemas (NUL only
on PostgreSQL, which cannot store it; SQLite stored it, so the check is on the answer)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dashboard import json_input
from dashboard.projects.models import Agent, Component, Link, Project
from tests.dashboard.view_fixtures import (  # noqa: F401 (fixtures)
    owner_client_fixture,
    owner_fixture,
    project_fixture,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(name="acme")
def acme_fixture(project: Project) -> Project:
    """Acme with an agent linked to a bucket, as the canvas shows it."""
    Agent.objects.create(project=project, name="support", system_prompt="Be kind.")
    Component.objects.create(project=project, kind="bucket", name="files", settings={})
    Link.objects.create(project=project, source="agent:support", target="bucket:files")
    return project


def _post(client: Client, name: str, *args: str, body: Any = None, raw: str | None = None) -> Any:
    url = reverse(name, args=["acme", *args])
    return client.post(url, raw if raw is not None else json.dumps(body), "application/json")


def _refused(response: Any, status: int = 400) -> str:
    assert response.status_code == status, response.content[:300]
    error: str = response.json()["error"]
    assert error
    return error


def _version(project: Project) -> int:
    project.refresh_from_db(fields=["version"])
    return project.version


@pytest.mark.parametrize("field", ["system_prompt", "description"])
def test_nul_in_an_agents_text_is_refused_when_added(
    owner_client: Client, acme: Project, field: str
) -> None:
    # Given the canvas of acme
    # When an agent is added whose text holds a NUL character
    data = {"name": "nul-bot", field: "be\x00kind"}
    body = {"version": _version(acme), "kind": "agent", "x": 1, "y": 2, "data": data}
    response = _post(owner_client, "canvas_node_add", body=body)
    # Then it is refused, naming the field, and no agent is made
    error = _refused(response)
    assert field in error and "NUL" in error
    assert not Agent.objects.filter(name="nul-bot").exists()


@pytest.mark.parametrize("field", ["system_prompt", "description"])
def test_nul_in_an_agents_text_is_refused_when_updated(
    owner_client: Client, acme: Project, field: str
) -> None:
    body = {"version": _version(acme), "data": {field: "x\x00"}}
    response = _post(owner_client, "canvas_node_update", "agent:support", body=body)
    assert field in _refused(response)
    agent = Agent.objects.get(name="support")
    assert "\x00" not in agent.system_prompt + agent.description


def test_node_data_sent_as_a_list_is_refused(owner_client: Client, acme: Project) -> None:
    for kind in ("agent", "bucket"):
        body = {"version": _version(acme), "kind": kind, "x": 0, "y": 0, "data": ["name", "x"]}
        error = _refused(_post(owner_client, "canvas_node_add", body=body))
        assert error == "data: must be a JSON object"
    assert Agent.objects.count() == 1 and Component.objects.count() == 1


def test_moves_sent_as_a_list_of_numbers_are_refused(owner_client: Client, acme: Project) -> None:
    body = {"version": _version(acme), "moves": [1, 2]}
    response = _post(owner_client, "canvas_nodes_move", body=body)
    assert _refused(response) == "moves[0]: must be a JSON object"
    assert response.json()["field"] == "moves"


def test_a_body_nested_100000_deep_is_refused_without_a_crash(
    owner_client: Client, acme: Project
) -> None:
    raw = "[" * 100_000 + "]" * 100_000
    assert "not JSON" in _refused(_post(owner_client, "canvas_node_add", raw=raw))
    # and a body within the parser's reach but deeper than any canvas edit needs
    deep: Any = "x"
    for _ in range(50):
        deep = {"a": deep}
    body = {"version": _version(acme), "data": {"tool_settings": deep}}
    error = _refused(_post(owner_client, "canvas_node_update", "agent:support", body=body))
    assert "nested more than" in error


def test_component_settings_sent_as_a_list_are_refused(owner_client: Client, acme: Project) -> None:
    body = {"version": _version(acme), "data": {"settings": ["versioning"]}}
    response = _post(owner_client, "canvas_node_update", "bucket:files", body=body)
    assert "settings" in _refused(response)
    body = {"version": _version(acme), "kind": "bucket", "data": {"settings": [1]}}
    assert "settings" in _refused(_post(owner_client, "canvas_node_add", body=body))


def test_an_undo_with_malformed_links_restores_nothing(owner_client: Client, acme: Project) -> None:
    for links in ([1], [{"source": "agent:restored"}]):
        body = {"version": _version(acme), "kind": "agent", "data": {"name": "restored"}}
        response = _post(owner_client, "canvas_node_add", body={**body, "links": links})
        assert "links[0]" in _refused(response)
    assert not Agent.objects.filter(name="restored").exists()


@pytest.mark.parametrize(
    "raw",
    [
        '{"version": %d, "kind": "agent", "x": NaN, "y": 0}',
        '{"version": %d, "kind": "agent", "x": Infinity, "y": 0}',
        '{"version": %d, "kind": "agent", "x": 1e999, "y": 0}',
        '{"version": %d, "kind": "agent", "x": "left", "y": 0}',
        '{"version": %d, "kind": "agent", "data": {"memory_mb": 1e999}}',
        '{"version": %d, "kind": "agent", "data": {"reserved_concurrency": 1' + "0" * 30 + "}}",
        '{"version": 1' + "0" * 30 + ', "kind": "agent"}',
        '{"version": %d, "kind": "agent\\u0007"}',
        '{"version": %d, "kind": "agent", "data": {"tool_settings": {"k\\u0000": 1}}}',
        '{"version": %d, "kind": "agent", "data": {"name": "\\ud800"}}',
    ],
)
def test_numbers_and_text_no_database_stores_are_refused(
    owner_client: Client, acme: Project, raw: str
) -> None:
    text = raw % _version(acme) if "%d" in raw else raw
    _refused(_post(owner_client, "canvas_node_add", raw=text))
    assert Agent.objects.count() == 1


@pytest.mark.parametrize("raw", ["{", "[]", '"agent"', "null", '{"version": 1} trailing'])
def test_a_body_that_is_not_a_json_object_is_refused(
    owner_client: Client, acme: Project, raw: str
) -> None:
    error = _refused(_post(owner_client, "canvas_link_add", raw=raw))
    assert "JSON" in error or "required" in error


def test_a_field_the_endpoint_does_not_take_is_named(owner_client: Client, acme: Project) -> None:
    body = {"version": _version(acme), "moves": [{"key": "agent:support", "x": 1, "y": 2, "z": 3}]}
    response = _post(owner_client, "canvas_nodes_move", body=body)
    assert _refused(response) == "moves[0].z: is not a field of this request"


def test_a_body_over_the_size_limit_is_refused_with_413(
    owner_client: Client, acme: Project
) -> None:
    prompt = "a" * json_input.MAX_BODY_BYTES
    body = {"version": _version(acme), "data": {"system_prompt": prompt}}
    response = _post(owner_client, "canvas_node_update", "agent:support", body=body)
    assert "larger than" in _refused(response, status=413)
    assert Agent.objects.get().system_prompt == "Be kind."


def test_good_edits_still_work_with_tabs_and_line_breaks_in_text(
    owner_client: Client, acme: Project
) -> None:
    body = {"version": _version(acme), "data": {"system_prompt": "Be kind.\n\tAlways."}}
    response = _post(owner_client, "canvas_node_update", "agent:support", body=body)
    assert response.status_code == 200, response.content
    assert Agent.objects.get().system_prompt == "Be kind.\n\tAlways."
    body = {"version": _version(acme), "moves": [{"key": "agent:support", "x": 1e9, "y": -4.6}]}
    assert _post(owner_client, "canvas_nodes_move", body=body).status_code == 200
    assert Agent.objects.values_list("x", "y").get() == (100_000, -5)


@pytest.mark.parametrize("field", ["description", "tool_settings", "session_bucket", "layers"])
def test_null_for_a_field_that_needs_a_value_is_refused(
    owner_client: Client, acme: Project, field: str
) -> None:
    # Found by tests/dashboard/test_fuzz_canvas_api.py: full_clean let null through a blank
    # field, and the database refused it (NOT NULL) with a 500
    body = {"version": _version(acme), "data": {field: None}}
    response = _post(owner_client, "canvas_node_update", "agent:support", body=body)
    assert field in _refused(response)
    body = {"version": _version(acme), "kind": "agent", "data": {"name": "nully", field: None}}
    assert field in _refused(_post(owner_client, "canvas_node_add", body=body))
    assert not Agent.objects.filter(name="nully").exists()


@pytest.mark.parametrize(
    "data",
    [
        {"temperature": []},
        {"max_tokens": {}},
        {"code": True},
        {"code": ["kind", "zip"]},
    ],
)
def test_a_list_or_object_where_one_value_goes_is_refused(
    owner_client: Client, acme: Project, data: dict[str, Any]
) -> None:
    # Found by tests/dashboard/test_fuzz_canvas_api.py: full_clean skips a blank field's
    # [] and {}, and the database then failed to turn them into a number (a 500)
    body = {"version": _version(acme), "data": data}
    response = _post(owner_client, "canvas_node_update", "agent:support", body=body)
    assert next(iter(data)) in _refused(response)
    agent = Agent.objects.get(name="support")
    assert (agent.temperature, agent.max_tokens, agent.code) == (None, None, {})


def test_a_form_post_to_a_json_endpoint_is_refused_as_the_wrong_type(
    owner_client: Client, acme: Project
) -> None:
    url = reverse("canvas_node_delete", args=["acme", "agent:support"])
    response = owner_client.post(url, {"version": str(_version(acme))})  # multipart, as a form
    assert "application/json" in _refused(response, status=415)
    assert Agent.objects.filter(name="support").exists()
