"""The user's journey in a real browser: from an empty account to a deployed and destroyed project."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, E2E_PASSWORD

pytestmark = pytest.mark.e2e

RUN_TIMEOUT_MS = 180_000  # a deploy on the sandbox takes seconds; CI machines are slow


def log_in(page: Page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(E2E_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()


def create_project(page: Page, name: str) -> None:
    page.get_by_label("Project name").fill(name)
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


def add_agent(page: Page, name: str) -> None:
    page.get_by_role("link", name="Add agent").click()  # htmx loads the form into the page
    form = page.locator("#agent-form")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Tools").fill("calculator")
    form.get_by_label("Environment variables").fill("LOG_LEVEL=info")
    form.get_by_role("button", name="Add agent").click()
    expect(page.locator(f'[data-node="agent:{name}"]')).to_be_visible()


def add_http_api(page: Page, name: str) -> None:
    page.locator("#components").get_by_role("link", name="HTTP API").click()
    form = page.locator("#component-form")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_role("button", name="Add HTTP API").click()
    expect(page.locator(f'[data-node="http_api:{name}"]')).to_be_visible()


def link(page: Page, source: str, target: str) -> None:
    links = page.locator("#links")
    links.get_by_label("From").select_option(source)
    links.get_by_label("To").select_option(target)
    links.get_by_role("button", name="Link").click()
    expect(page.locator("#links tbody tr")).to_have_count(1)


def wait_for_run(page: Page, status: str = "Succeeded") -> None:
    expect(page.locator("#run-status")).to_have_text(status, timeout=RUN_TIMEOUT_MS)


def expect_every_resource_succeeded(page: Page) -> None:
    rows = page.locator("#resources tbody tr")
    expect(rows.first).to_be_visible()
    statuses = rows.locator(".res-status").all_inner_texts()
    assert statuses and all(s.strip() == "succeeded" for s in statuses), statuses
    expect(page.locator("#progress-text")).to_have_text(
        re.compile(rf"^{len(statuses)} of {len(statuses)} done$")
    )


def test_a_user_deploys_and_destroys_an_agent_behind_an_http_api(e2e_user: Any, page: Page) -> None:
    # (e2e_user first: its database write must happen before Playwright runs an event loop here)
    # Given a logged-in user with a project holding an agent called through an HTTP API
    log_in(page, "jo")
    create_project(page, "journey")
    add_agent(page, "support")
    add_http_api(page, "public")
    link(page, "http_api:public", "agent:support")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-project.png"), full_page=True)

    # When they plan, they see every resource with its action
    page.get_by_role("button", name="Plan").click()
    plan_table = page.locator("#plan-table")
    expect(plan_table).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(plan_table.locator("tbody tr").first).to_be_visible()
    actions = plan_table.locator("tbody tr td:nth-child(4) .badge").all_inner_texts()
    assert actions and set(actions) == {"CREATE"}, actions
    expect(plan_table).to_contain_text("agent:support")
    expect(plan_table).to_contain_text("http_api:public")

    # And when they deploy, every resource reaches succeeded on the page, live
    page.get_by_role("button", name="Deploy this plan").click()
    expect(page.locator("#run")).to_have_attribute("data-kind", "deploy")
    page.evaluate("window.__notReloaded = true")
    wait_for_run(page)
    expect_every_resource_succeeded(page)
    assert page.evaluate("window.__notReloaded === true"), "the page reloaded to show progress"
    expect(page.locator("#summary")).to_contain_text("Succeeded")
    page.screenshot(path=str(ARTIFACTS / "e2e-deployed.png"), full_page=True)
    deploy_url = page.url

    # And when they destroy, typing the project name to confirm
    page.goto("/projects/journey/")
    page.get_by_role("link", name="Destroy…").click()
    page.get_by_label("Project name").fill("journey")
    page.get_by_role("button", name="Destroy journey/dev").click()
    wait_for_run(page)
    expect_every_resource_succeeded(page)
    destroy_url = page.url

    # Then the history holds both runs, each linking to its page
    page.goto("/projects/journey/deployments/")
    history = page.locator("#history tbody")
    for kind, url in (("Deploy", deploy_url), ("Destroy", destroy_url)):
        run_id = url.rstrip("/").rsplit("/", 1)[-1]
        row = history.locator(f'tr[data-deployment="{run_id}"]')
        expect(row).to_contain_text(kind)
        expect(row).to_contain_text("Succeeded")
        expect(row).to_contain_text("jo")
    page.screenshot(path=str(ARTIFACTS / "e2e-history.png"), full_page=True)
