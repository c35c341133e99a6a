"""Scenario 8 in the browser: a double-clicked deploy starts one run, and says why not two.

A double click on "Deploy this plan" whose second click lands while the first POST is on
its way (a slow network) used to post twice: the server started one run and refused the
other, but the browser showed the answer to the second POST, the refusal on the plan page,
instead of the run. Forms that start a run now post once (static/js/forms.js); two tabs
clicking at once prove the server still refuses the second request, says why and shows
the run that holds the stage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import Locator, Page, Request, Route, expect

from dashboard.projects import services as project_services
from dashboard.projects.models import Stage
from dashboard.runs.models import Deployment
from provisioning import sandbox as sandbox_server
from tests.e2e.test_journey import RUN_TIMEOUT_MS, log_in
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.e2e

DEPLOY_PLAN = re.compile(r"^Deploy (these changes|this plan)$")


@pytest.fixture
def sandbox(
    sandbox_session: sandbox_server.Sandbox, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The server reaches AWS through a proxy that makes each write take 0.5 s."""
    sandbox_server.reset(sandbox_session.endpoint_url)
    proxy = FaultProxy(sandbox_session.endpoint_url, {"defaults": {"write": 0.5, "read": 0.0}})
    proxy.start()
    settings.SANDBOX_ENDPOINT_URL = proxy.endpoint_url
    monkeypatch.setenv("SANDBOX_ENDPOINT_URL", proxy.endpoint_url)
    try:
        yield proxy.endpoint_url
    finally:
        proxy.stop()


@pytest.fixture
def stage(e2e_user: Any) -> Stage:
    """jo's project: an agent behind an HTTP API (database work before Playwright's loop)."""
    project = project_services.project_create(name="clicky", user=e2e_user)
    project_services.agent_create(project=project, user=e2e_user, data={"name": "support"})
    project_services.component_create(
        project=project, user=e2e_user, kind="http_api", name="public"
    )
    project_services.link_create(
        project=project, user=e2e_user, source="http_api:public", target="agent:support"
    )
    return project.stages.get()


def deploy_runs(stage: Stage) -> list[Deployment]:
    """Read in a plain thread: Playwright's event loop forbids ORM calls in this one."""

    def read() -> list[Deployment]:
        try:
            return list(Deployment.objects.filter(stage=stage, kind="deploy"))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(read).result()


def plan_stage(page: Page) -> str:
    """Plan the stage from the project page; the URL of the finished plan."""
    page.goto("/projects/clicky/")
    page.get_by_role("button", name="Plan").click()
    expect(page.locator("#plan-table")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    return page.url


def posts_to_deploy(page: Page) -> list[str]:
    """Every deploy POST the browser sends from now on (seen on the wire, not in the page)."""
    sent: list[str] = []

    def seen(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/deploy/"):
            sent.append(request.url)

    page.on("request", seen)
    return sent


def double_click_quickly(page: Page) -> None:
    page.get_by_role("button", name=DEPLOY_PLAN).dblclick()


def double_click_on_a_slow_network(page: Page, button: Locator | None = None) -> None:
    """Two clicks 120 ms apart while each request takes 400 ms more: the second click lands
    on the page while the first POST is still on its way."""
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 400, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    button = button or page.get_by_role("button", name=DEPLOY_PLAN)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(120)
    page.mouse.click(x, y, click_count=2)


@pytest.mark.parametrize("double_click", [double_click_quickly, double_click_on_a_slow_network])
def test_a_double_clicked_deploy_starts_one_run_and_shows_it(
    stage: Stage, page: Page, double_click: Callable[[Page], None]
) -> None:
    # Given jo looking at a finished plan of the stage
    log_in(page, "jo")
    plan_stage(page)
    sent = posts_to_deploy(page)

    # When they double-click "Deploy this plan"
    double_click(page)

    # Then the browser posts once, one run starts, and the page they land on is that run
    shows_the_one_run(page, stage, sent)


def test_a_double_clicked_deploy_on_the_project_page_starts_one_run_and_shows_it(
    stage: Stage, page: Page
) -> None:
    log_in(page, "jo")
    page.goto("/projects/clicky/")
    sent = posts_to_deploy(page)

    double_click_on_a_slow_network(page, page.locator("form[action$='/stages/dev/deploy/'] button"))

    shows_the_one_run(page, stage, sent)


def shows_the_one_run(page: Page, stage: Stage, sent: list[str]) -> None:
    """One deploy POST went out, one run exists, and the page is that run, unrefused."""
    expect(page.locator("#run")).to_have_attribute("data-kind", "deploy")
    (run,) = deploy_runs(stage)
    expect(page).to_have_url(re.compile(rf"/deployments/{run.pk}/$"))
    expect(page.locator(".messages")).to_have_count(0)
    expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=RUN_TIMEOUT_MS)
    assert len(sent) == 1, sent
    assert [r.pk for r in deploy_runs(stage)] == [run.pk]


def test_two_tabs_deploying_at_once_start_one_run_and_both_show_it(
    stage: Stage, page: Page
) -> None:
    # Given jo with the same finished plan open in two tabs
    log_in(page, "jo")
    plan_url = plan_stage(page)
    other = page.context.new_page()
    other.goto(plan_url)
    tabs = (page, other)

    # When both click "Deploy this plan", their POSTs held and then let go together
    held: list[Route] = []
    page.context.route("**/deploy/", lambda route: held.append(route))
    for tab in tabs:
        tab.get_by_role("button", name=DEPLOY_PLAN).click(no_wait_after=True)
    for _ in range(200):
        if len(held) == len(tabs):
            break
        page.wait_for_timeout(50)
    assert len(held) == len(tabs), f"{len(held)} of {len(tabs)} tabs posted"
    with page.expect_navigation(), other.expect_navigation():
        for route in held:
            route.continue_()

    # Then one run starts; both tabs show it, and the one refused is told why
    (run,) = deploy_runs(stage)
    assert all(tab.url.endswith(f"/deployments/{run.pk}/") for tab in tabs)
    # The tabs share a session, so the refusal may show in both when they load at once.
    refusal = f"a deploy of clicky/dev is already queued or running (#{run.pk})"
    said = [" ".join(messages(tab)) for tab in tabs]
    assert refusal in said and set(said) <= {"", refusal}, said
    for tab in tabs:
        expect(tab.locator("#run-status")).to_have_text("Succeeded", timeout=RUN_TIMEOUT_MS)
    assert [r.pk for r in deploy_runs(stage)] == [run.pk]


def messages(page: Page) -> list[str]:
    return [text.strip() for text in page.locator(".messages li").all_inner_texts()]
