"""The canvas's rules as the dashboard applies them: the model id and region an agent names
go into IAM ARNs, so the form, the canvas API and the services refuse what is not one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dashboard import errors
from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Project

pytestmark = pytest.mark.django_db

FORM = {
    "name": "support",
    "model_id": "us.amazon.nova-pro-v1:0",
    "system_prompt": "Help.",
    "runtime": "python3.12",
    "architecture": "x86_64",
    "memory_mb": 1024,
    "timeout_s": 120,
}


def test_the_agent_form_refuses_a_model_id_that_would_inject_into_a_policy(
    acme: Project, alice: Any, client: Client
) -> None:
    client.force_login(alice)

    response = client.post(
        "/projects/acme/agents/new/", {**FORM, "model_id": 'anthropic.claude"],"Resource":"*'}
    )

    assert response.status_code == 400
    assert "is not a Bedrock model id like" in response.content.decode()
    assert not Agent.objects.exists()


def test_the_agent_form_refuses_a_model_region_that_is_no_region(
    acme: Project, alice: Any, client: Client
) -> None:
    client.force_login(alice)

    response = client.post("/projects/acme/agents/new/", {**FORM, "model_region": "us-east-1;*"})

    assert response.status_code == 400
    assert "is not an AWS region name like us-east-1" in response.content.decode()
    assert not Agent.objects.exists()


def test_the_canvas_api_refuses_a_bad_model_region_and_keeps_the_old_one(
    acme: Project, alice: Any, client: Client
) -> None:
    agent = project_services.agent_create(project=acme, user=alice, data={"name": "support"})
    client.force_login(alice)
    acme.refresh_from_db()

    response = client.post(
        reverse("canvas_node_update", args=["acme", "agent:support"]),
        json.dumps({"version": acme.version, "data": {"model_region": "eu-west-1' OR 1=1"}}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["field"] == "model_region"
    agent.refresh_from_db()
    assert agent.model_region == ""


def test_a_valid_model_and_region_are_saved(acme: Project, alice: Any) -> None:
    agent = project_services.agent_create(
        project=acme,
        user=alice,
        data={
            "name": "support",
            "model_id": "eu.amazon.nova-pro-v1:0",
            "model_region": "eu-west-1",
        },
    )

    agent.refresh_from_db()
    assert (agent.model_id, agent.model_region) == ("eu.amazon.nova-pro-v1:0", "eu-west-1")


def test_switching_the_provider_checks_the_model_id_against_that_provider(
    acme: Project, alice: Any
) -> None:
    agent = project_services.agent_create(
        project=acme,
        user=alice,
        data={"name": "support", "model_provider": "openai", "model_id": "gpt-4o"},
    )

    with pytest.raises(errors.ServiceError) as refused:
        project_services.agent_update(agent=agent, user=alice, data={"model_provider": "bedrock"})

    assert refused.value.field == "model_id"
