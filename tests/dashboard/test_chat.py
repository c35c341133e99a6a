"""The chat panel: a prompt to the agent as deployed; in the sandbox, its package run locally."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from dashboard.errors import ServiceError
from dashboard.projects import chat
from dashboard.projects import services as project_services
from dashboard.projects.models import Project
from dashboard.runs import execution
from dashboard.runs import services as run_services
from dashboard.runs.models import DeployedResource
from provisioning import engine
from provisioning.strands.try_agent import LOCAL_RUNS_OFF, Answer, Usage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def deployed(acme: Project, alice: Any, sandbox: str) -> Project:
    """acme with agent "support" (a tool, a session bucket) deployed to the sandbox."""
    project_services.agent_create(
        project=acme,
        user=alice,
        data={"name": "support", "tools": ["current_time"], "session_bucket": "chats"},
    )
    project_services.component_create(
        project=acme, user=alice, kind="bucket", name="chats", settings={}
    )
    deployment = run_services.deployment_start(
        stage=acme.stages.get(), kind="deploy", user=alice, enqueue=False
    )
    done = execution.run_deployment(deployment.pk)
    assert done is not None and done.status == "SUCCEEDED", done and done.error
    return acme


def test_in_the_sandbox_the_deployed_package_answers_locally_and_says_so(
    deployed: Project, alice: Any, client: Client
) -> None:
    # Given alice on the agent's chat panel
    client.force_login(alice)

    # When she sends a prompt to the sandbox stage
    response = client.post(
        "/projects/acme/agents/support/chat/",
        {"stage": "dev", "prompt": "is anyone there?", "session_id": "t-1"},
    )

    # Then the deployed handler answered through the stand-in model, and the page says where
    page = response.content.decode()
    assert response.status_code == 200, page
    assert "stand-in reply: is anyone there?" in page
    assert "The sandbox cannot run Lambda code" in page
    assert 'data-where="local"' in page and " ms</span>" in page


def test_the_local_run_keeps_the_conversation_in_the_sandbox_bucket(
    deployed: Project, alice: Any
) -> None:
    agent, stage = deployed.agents.get(), deployed.stages.get()

    first = chat.agent_ask(
        agent=agent, stage=stage, user=alice, prompt="remember 42", session_id="t-2"
    ).answer
    second = chat.agent_ask(
        agent=agent, stage=stage, user=alice, prompt="what was it?", session_id="t-2"
    ).answer

    assert first.ok and second.ok, (first.text, second.text)
    assert (first.where, second.text) == ("local", "stand-in reply: what was it?")


def test_with_local_runs_switched_off_the_sandbox_chat_refuses_and_runs_nothing(
    acme: Project, alice: Any, client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an operator who switched local runs of uploaded code off, and a deployed agent
    settings.LOCAL_AGENT_RUNS = False
    project_services.agent_create(project=acme, user=alice, data={"name": "support"})
    DeployedResource.objects.create(
        stage=acme.stages.get(), logical_id="agent/support/function", type="lambda:function",
        physical_id="acme-dev-support", properties={"name": "acme-dev-support"},
    )  # fmt: skip

    def must_not_run(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the engine was asked to run uploaded code")

    monkeypatch.setattr(engine, "ask_agent", must_not_run)
    client.force_login(alice)

    # When alice sends a prompt to the sandbox stage
    response = client.post("/projects/acme/agents/support/chat/", {"stage": "dev", "prompt": "hi"})

    # Then the panel says local runs are off (no server error) and nothing ran
    assert response.status_code == 400
    assert LOCAL_RUNS_OFF in response.content.decode()


def test_an_agent_not_deployed_yet_is_a_clear_error(
    acme: Project, alice: Any, sandbox: str
) -> None:
    agent = project_services.agent_create(project=acme, user=alice, data={"name": "support"})

    with pytest.raises(ServiceError, match="not deployed to dev yet"):
        chat.agent_ask(agent=agent, stage=acme.stages.get(), user=alice, prompt="hi")


def test_the_agent_page_offers_the_chat_panel(acme: Project, alice: Any, client: Client) -> None:
    project_services.agent_create(project=acme, user=alice, data={"name": "support"})
    client.force_login(alice)

    page = client.get("/projects/acme/agents/support/edit/").content.decode()
    panel = client.get("/projects/acme/agents/support/chat/", HTTP_HX_REQUEST="true")

    assert "/projects/acme/agents/support/chat/" in page
    assert 'id="agent-chat"' in panel.content.decode()
    assert "<html" not in panel.content.decode()


@pytest.fixture
def answering(
    acme: Project, alice: Any, monkeypatch: pytest.MonkeyPatch, client: Client
) -> list[Answer]:
    """acme's agent "support" recorded as deployed, answering with the next of these answers."""
    cache.clear()
    project_services.agent_create(project=acme, user=alice, data={"name": "support"})
    DeployedResource.objects.create(
        stage=acme.stages.get(), logical_id="agent/support/function", type="lambda:function",
        physical_id="acme-dev-support", properties={"name": "acme-dev-support"},
    )  # fmt: skip
    answers: list[Answer] = []
    monkeypatch.setattr(engine, "ask_agent", lambda *_a, **_k: answers.pop(0))
    client.force_login(alice)
    return answers


def ask(client: Client) -> Any:
    return client.post(
        "/projects/acme/agents/support/chat/",
        {"stage": "dev", "prompt": "hi"},
        HTTP_HX_REQUEST="true",
    )


def test_each_answer_shows_its_tokens_and_their_estimated_cost(
    answering: list[Answer], client: Client
) -> None:
    answering.append(Answer(True, "hello", 900, "aws", usage=Usage(1200, 300)))
    answering.append(Answer(True, "hello again", 800, "aws"))

    priced, unreported = ask(client).content.decode(), ask(client).content.decode()

    # the default model, Claude Sonnet: $3 in and $15 out per million tokens
    assert "1200 input + 300 output tokens" in priced and "about $0.00810" in priced
    assert "no usage reported" in unreported and "about $" not in unreported


def test_past_the_minute_s_budget_the_panel_says_to_wait_and_runs_nothing(
    answering: list[Answer], client: Client, settings: Any
) -> None:
    settings.CHAT_RATE_PER_MIN = 2
    answering.extend(Answer(True, f"answer {i}", 10, "aws") for i in range(2))

    answers = [ask(client) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1].content.decode()
    assert "You sent 2 prompts this minute" in refused and 'id="agent-chat"' in refused
    assert int(answers[-1]["Retry-After"]) >= 1
    assert answering == []  # the third prompt reached no agent
