"""Following an agent's log: a chat run in the sandbox shows up on the Logs tab, live."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dashboard.projects import services as project_services
from dashboard.runs import execution
from dashboard.runs import services as run_services
from tests.e2e.test_journey import RUN_TIMEOUT_MS, log_in


@pytest.fixture
def deployed_helper(e2e_user: Any, sandbox: str) -> None:
    """jo's agent "helper" deployed to the sandbox (before the browser's event loop starts:
    the ORM refuses to run inside it)."""
    project = project_services.project_create(name="watched", user=e2e_user)
    project_services.agent_create(project=project, user=e2e_user, data={"name": "helper"})
    deployment = run_services.deployment_start(
        stage=project.stages.get(), kind="deploy", user=e2e_user, enqueue=False
    )
    done = execution.run_deployment(deployment.pk)
    assert done is not None and done.status == "SUCCEEDED", done and done.error


def test_a_chat_run_appears_on_the_followed_logs_tab_without_a_reload(
    deployed_helper: None, page: Page
) -> None:
    # When jo opens its Logs tab (nothing written yet) and follows it
    log_in(page, "jo")
    page.goto("/projects/watched/stages/dev/agents/helper/logs/")
    expect(page.get_by_role("heading", name="Logs of helper")).to_be_visible()
    expect(page.locator("#log-body tr")).to_have_count(0)
    page.get_by_label("Follow new lines").check()
    expect(page.locator("#log-lines")).to_have_attribute("data-following", "true")
    loaded_at = page.evaluate("performance.timeOrigin")

    # And sends the agent a prompt from its chat panel in another tab
    chat = page.context.new_page()
    chat.goto("/projects/watched/agents/helper/chat/")
    chat.get_by_label("Prompt").fill("hello there")
    chat.get_by_role("button", name="Send").click()
    expect(chat.locator("[data-chat-answer]")).to_be_visible(timeout=RUN_TIMEOUT_MS)

    # Then the run's lines appear on the Logs tab, framed by its request, without a reload
    start = page.locator("#log-body tr.is-new", has_text="START RequestId")
    expect(start).to_have_count(1, timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#log-body tr.is-new", has_text="END RequestId")).to_have_count(1)
    assert page.evaluate("performance.timeOrigin") == loaded_at
    # And its request id filters the tab down to that request
    request_id = start.locator("a.request-id")
    expect(request_id).to_be_visible()
    request_id.click()
    expect(page.locator("#log-body tr").first).to_contain_text("START RequestId")
    expect(page.locator("#log-filter")).not_to_have_value("")
