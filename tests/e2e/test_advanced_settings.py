"""Advanced settings of every group, set in the browser, show in the plan's project diff."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_journey import RUN_TIMEOUT_MS, add_http_api, create_project, log_in

pytestmark = pytest.mark.e2e


def _advanced(form: Any) -> Any:
    details = form.locator("details.advanced")
    details.locator("summary").click()
    return details


def _add_component(page: Page, label: str, name: str) -> Any:
    page.locator("#components").get_by_role("link", name=label).click()
    form = page.locator("#component-form")
    form.get_by_label("Name", exact=True).fill(name)
    return form


def _link_and_edit(page: Page, source: str, target: str, count: int) -> Any:
    links = page.locator("#links")
    links.get_by_label("From").select_option(source)
    links.get_by_label("To").select_option(target)
    links.get_by_role("button", name="Link").click()
    expect(page.locator("#links tbody tr")).to_have_count(count)
    row = (
        page.locator("#links tbody tr")
        .filter(has_text=source.split(":")[1])
        .filter(has_text=target.split(":")[1])
    )
    row.get_by_role("link", name="Edit").click()
    return page.locator("#link-form")


def _save_link(page: Page, form: Any, project: str) -> None:
    form.get_by_role("button", name="Save link").click()
    page.wait_for_url(f"**/projects/{project}/**")
    expect(page.locator("#links")).to_be_visible()


def test_advanced_settings_from_each_group_reach_the_plan(e2e_user: Any, page: Page) -> None:
    # Given a project whose agent, table, links and stage use advanced settings
    log_in(page, e2e_user.username)
    create_project(page, "tuned")

    page.get_by_role("link", name="Add agent").click()
    agent = page.locator("#agent-form")
    agent.get_by_label("Name", exact=True).fill("support")
    _advanced(agent).get_by_label("Additional models").fill("us.anthropic.claude-haiku-4-5")
    agent.get_by_role("button", name="Add agent").click()
    expect(page.locator('[data-node="agent:support"]')).to_be_visible()

    table = _add_component(page, "DynamoDB table", "orders")
    table.get_by_label("Partition key type").select_option("N")
    _advanced(table).get_by_label("TTL attribute").fill("expires_at")
    table.get_by_role("button", name="Add DynamoDB table").click()
    expect(page.locator('[data-node="table:orders"]')).to_be_visible()

    for label, name in (("SQS queue", "jobs"), ("SNS topic", "alerts")):
        _add_component(page, label, name).get_by_role("button", name=f"Add {label}").click()
        expect(page.locator(f'[data-node^="{name}" i], [data-node$=":{name}"]')).to_have_count(1)
    add_http_api(page, "public")

    form = _link_and_edit(page, "agent:support", "table:orders", 1)
    form.get_by_label("Variable name").fill("ORDERS")
    _save_link(page, form, "tuned")
    form = _link_and_edit(page, "http_api:public", "agent:support", 2)
    form.get_by_label("Method").select_option("GET")
    form.get_by_label("Path").fill("/chat")
    _save_link(page, form, "tuned")
    form = _link_and_edit(page, "topic:alerts", "queue:jobs", 3)
    form.get_by_label("Raw message delivery").uncheck()
    _save_link(page, form, "tuned")

    page.goto("/projects/tuned/stages/dev/settings/")
    page.get_by_label("Log retention (days)").select_option("30")
    page.get_by_role("button", name="Save stage").click()
    expect(page.get_by_text("Settings of stage dev saved.")).to_be_visible()

    # When they plan
    page.goto("/projects/tuned/")
    page.get_by_role("button", name="Plan").click()
    expect(page.locator("#plan-table")).to_be_visible(timeout=RUN_TIMEOUT_MS)

    # Then the project diff of the plan shows each of those settings
    diff = page.locator(".snapshot-diff")
    expect(diff.locator('[data-node="agent:support"]')).to_contain_text("claude-haiku-4-5")
    expect(diff.locator('[data-node="table:orders"]')).to_contain_text("expires_at")
    expect(diff.locator('[data-node="table:orders"]')).to_contain_text("partition_key_type")
    expect(diff.locator('[data-node="link agent:support->table:orders"]')).to_contain_text("ORDERS")
    route = diff.locator('[data-node="link http_api:public->agent:support"]')
    expect(route).to_contain_text("/chat")
    expect(route).to_contain_text("GET")
    expect(diff.locator('[data-node="link topic:alerts->queue:jobs"]')).to_contain_text(
        "raw_message_delivery"
    )
    expect(diff.locator('[data-node="stage settings"]')).to_contain_text("log_retention_days")
