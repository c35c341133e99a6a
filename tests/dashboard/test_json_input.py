"""Input no database stores, on every way in: JSON bodies, addresses, queries, form fields,
and the services the CLI and project files call without a form."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from dashboard import json_input
from dashboard.errors import ServiceError
from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Project
from tests.dashboard.view_fixtures import (  # noqa: F401 (fixtures)
    owner_client_fixture,
    owner_fixture,
    project_fixture,
)


# --- parsing ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (b'{"a": ' * 20 + b"1" + b"}" * 20, "nested more than"),
        (b'{"x": NaN}', "not JSON"),
        (b'{"x": 1e999}', "finite"),
        (b'{"x": 99999999999999999999}', "too large"),
        (b'{"x": "\\u0000"}', "NUL"),
        (b'{"x\\t": 1}', "control characters"),
        (b'{"x": "\\ud800"}', "not JSON"),
        (b"\xff", "not JSON"),
    ],
)
def test_parse_refuses_what_no_database_stores(raw: bytes, says: str) -> None:
    with pytest.raises(json_input.JsonRefused) as refused:
        json_input.parse(raw)
    assert says in refused.value.message and refused.value.status == 400


def test_parse_keeps_ordinary_json_and_reads_an_empty_body_as_an_object() -> None:
    assert json_input.parse(b"") == {}
    text = {"prompt": "line one\n\tline two", "n": [1, 2.5, None, True]}
    assert (
        json_input.parse(b'{"prompt": "line one\\n\\tline two", "n": [1, 2.5, null, true]}') == text
    )


def test_parse_refuses_a_body_over_the_limit_with_413() -> None:
    with pytest.raises(json_input.JsonRefused) as refused:
        json_input.parse(b" " * (json_input.MAX_BODY_BYTES + 1))
    assert refused.value.status == 413


def test_the_field_of_a_problem_is_the_top_level_key() -> None:
    with pytest.raises(json_input.JsonRefused) as refused:
        json_input.parse(b'{"data": {"settings": [{"k": "\\u0000"}]}}')
    assert refused.value.field == "data"
    assert refused.value.message.startswith("data.settings[0].k:")


# --- addresses, queries and forms -------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/projects/acme%00/",
        "/projects/acme/canvas/state/?stage=dev%00",
        "/projects/acme/canvas/nodes/agent:support%00/explain/",
        "/projects/acme/canvas/nodes/agent:support%0A/explain/",
        "/history/?older=%00",
    ],
)
def test_a_control_character_in_the_address_or_query_is_a_400(
    owner_client: Client, project: Project, url: str
) -> None:
    # On PostgreSQL each of these was a 500: it cannot compare text holding NUL
    response = owner_client.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 400
    assert b'role="alert"' in response.content and b"control characters" in response.content


@pytest.mark.django_db
def test_a_json_client_gets_the_refusal_as_json(owner_client: Client, project: Project) -> None:
    response = owner_client.get(
        "/projects/acme/canvas/state/?stage=%00", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert "stage" in response.json()["error"]


@pytest.mark.django_db
def test_nul_in_a_form_field_a_view_reads_directly_is_a_400(
    owner_client: Client, project: Project
) -> None:
    # The chat panel reads `stage` straight from the form to look the stage up by name
    url = reverse("agent_chat", args=["acme", "support"])
    response = owner_client.post(url, {"stage": "dev\x00", "prompt": "hello"})
    assert response.status_code == 400
    assert b"NUL" in response.content


# --- services called without a form -----------------------------------------------------------
@pytest.mark.django_db
def test_a_service_refuses_to_store_nul_whoever_calls_it(project: Project) -> None:
    # Given the CLI or a project file, which reach the services without a form
    # When an agent with NUL in its prompt or its environment is saved
    for data in ({"system_prompt": "be\x00kind"}, {"environment": {"KEY": "a\x00b"}}):
        with pytest.raises(ServiceError) as refused:
            project_services.agent_create(
                project=project, user=None, data={"name": "cli-bot", **data}
            )
        # Then it is refused with the field named, and nothing is stored
        assert refused.value.field in data and "NUL" in refused.value.message
    assert not Agent.objects.filter(name="cli-bot").exists()
