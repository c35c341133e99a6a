"""The agent form's model, tools and sessions fields; the provider's API key stays secret."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from dashboard.projects import services as project_services
from dashboard.projects.blueprint import blueprint_for_stage
from dashboard.projects.models import Agent, Project

pytestmark = pytest.mark.django_db

FORM = {
    "name": "support",
    "model_id": "anthropic.claude-sonnet-4-5",
    "system_prompt": "Help.",
    "runtime": "python3.12",
    "architecture": "x86_64",
    "memory_mb": 1024,
    "timeout_s": 120,
}


def test_the_api_key_is_stored_sealed_and_never_shown_again(
    acme: Project, alice: Any, client: Client
) -> None:
    client.force_login(alice)

    response = client.post(
        "/projects/acme/agents/new/",
        {**FORM, "model_provider": "anthropic", "api_key": "sk-ant-very-secret",
         "max_tokens": 2000, "temperature": 0.3},
    )  # fmt: skip

    assert response.status_code == 302, response.content.decode()
    agent = Agent.objects.get()
    sealed = agent.secret_environment["ANTHROPIC_API_KEY"]
    assert sealed and "sk-ant-very-secret" not in sealed
    edit = client.get("/projects/acme/agents/support/edit/").content.decode()
    assert "sk-ant-very-secret" not in edit
    blueprint = blueprint_for_stage(acme.stages.get())
    assert "sk-ant-very-secret" not in str(blueprint.to_dict())
    assert blueprint.agents[0].model_provider == "anthropic"
    assert (blueprint.agents[0].max_tokens, blueprint.agents[0].temperature) == (2000, 0.3)


def test_tools_that_cannot_run_on_lambda_are_refused_in_the_form(
    acme: Project, alice: Any, client: Client
) -> None:
    client.force_login(alice)

    response = client.post("/projects/acme/agents/new/", {**FORM, "tools": "calculator, shell"})

    assert response.status_code == 400
    assert "shell cannot run on Lambda" in response.content.decode()
    assert not Agent.objects.exists()


def test_a_retrieve_tool_needs_its_knowledge_base(
    acme: Project, alice: Any, client: Client
) -> None:
    client.force_login(alice)

    missing = client.post("/projects/acme/agents/new/", {**FORM, "tools": "retrieve"})
    given = client.post(
        "/projects/acme/agents/new/",
        {**FORM, "tools": "retrieve", "tool_settings": "knowledge_base_id=KB12345678"},
    )

    assert "retrieve needs knowledge base id" in missing.content.decode()
    assert given.status_code == 302
    assert Agent.objects.get().tool_settings == {"knowledge_base_id": "KB12345678"}


def test_a_session_link_makes_the_bucket_the_agents_conversation_store(
    acme: Project, alice: Any
) -> None:
    project_services.agent_create(project=acme, user=alice, data={"name": "support"})
    project_services.component_create(
        project=acme, user=alice, kind="bucket", name="chats", settings={}
    )

    project_services.link_create(
        project=acme, user=alice, source="agent:support", target="bucket:chats", kind="sessions"
    )

    links = blueprint_for_stage(acme.stages.get()).links
    assert [(link.source, link.target, link.kind) for link in links] == [
        ("agent:support", "bucket:chats", "sessions")
    ]
