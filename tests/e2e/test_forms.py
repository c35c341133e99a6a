"""Forms loaded into the project page by htmx show the server's errors in place."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_journey import create_project, log_in

pytestmark = pytest.mark.e2e


def test_an_invalid_agent_shows_its_field_error_without_leaving_the_page(
    e2e_user: Any, page: Page
) -> None:
    log_in(page, e2e_user.username)
    create_project(page, "forms")

    page.get_by_role("link", name="Add agent").click()
    form = page.locator("#agent-form")
    form.get_by_label("Name", exact=True).fill("Not A Valid Name!")
    form.get_by_role("button", name="Add agent").click()

    errors = page.locator("#agent-form .has-error .errorlist")
    expect(errors).to_have_count(1)
    expect(errors).to_contain_text("lowercase letters, digits and hyphens")
    expect(page.locator("#agent-form").get_by_label("Name", exact=True)).to_have_value(
        "Not A Valid Name!"
    )
    assert "/projects/forms/" in page.url
    expect(page.locator('[data-node^="agent:"]')).to_have_count(0)
