"""The chat panel in a browser: its "waiting for the agent" line shows only while a prompt runs."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dashboard.projects import services as project_services
from tests.e2e.test_journey import log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def undeployed_agent(e2e_user: Any) -> None:
    """Agent "support" of project "chatty", made before the browser starts (its event loop
    would refuse the ORM)."""
    project = project_services.project_create(name="chatty", user=e2e_user)
    project_services.agent_create(project=project, user=e2e_user, data={"name": "support"})


def test_the_waiting_line_is_hidden_until_a_prompt_is_sent(
    e2e_user: Any, undeployed_agent: None, page: Page
) -> None:
    # Given an agent not deployed yet, and its chat panel open
    log_in(page, e2e_user.username)
    page.goto("/projects/chatty/agents/support/chat/")
    waiting = page.locator("#agent-chat-wait")

    # Then nothing says it is waiting before a prompt is sent (the CSP blocks htmx's own style)
    expect(waiting).to_be_hidden()
    assert waiting.evaluate("el => getComputedStyle(el).visibility") == "hidden"

    # When a prompt is sent, the answer replaces the panel, and the line is hidden again
    page.get_by_label("Prompt").fill("hello?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#agent-chat [role=alert]")).to_contain_text("not deployed to dev yet")
    expect(page.locator("#agent-chat-wait")).to_be_hidden()
