"""Scenario 10: a reload and a dropped connection mid-deploy lose and repeat nothing.

A real browser watches a deploy slowed by the fault proxy (a second per AWS write);
half-way the page is reloaded, later its websocket is cut. At the end the page's log
must hold every event of the run exactly once, in order, as the database has them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import Page, WebSocketRoute, expect

from dashboard.access.models import Membership
from dashboard.projects.models import Stage
from dashboard.runs import selectors as run_selectors
from dashboard.runs.models import Deployment
from provisioning import sandbox as sandbox_server
from tests.e2e.conftest import e2e_user, page, server_url  # noqa: F401 - fixtures
from tests.e2e.test_journey import RUN_TIMEOUT_MS, log_in
from tests.reliability.conftest import slow_writes
from tests.reliability.dashboard_fixtures import make_project
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.e2e


@pytest.fixture
def sandbox(
    sandbox_session: sandbox_server.Sandbox, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Overrides the shared fixture: the server and workers reach AWS through a slow proxy."""
    sandbox_server.reset(sandbox_session.endpoint_url)
    proxy = FaultProxy(sandbox_session.endpoint_url, slow_writes(1.0)).start()
    settings.SANDBOX_ENDPOINT_URL = proxy.endpoint_url
    monkeypatch.setenv("SANDBOX_ENDPOINT_URL", proxy.endpoint_url)
    try:
        yield proxy.endpoint_url
    finally:
        proxy.stop()


def seqs_on_page(browser_page: Page) -> list[int]:
    return [int(li.get_attribute("data-seq") or 0) for li in browser_page.locator("#log li").all()]


def wait_for_log(browser_page: Page, lines: int, timeout_s: float = 60) -> None:
    """Poll from here: the page's CSP forbids the eval behind `wait_for_function`."""
    deadline = time.monotonic() + timeout_s
    while browser_page.locator("#log li").count() < lines:
        assert time.monotonic() < deadline, f"fewer than {lines} log lines after {timeout_s}s"
        browser_page.wait_for_timeout(200)


@pytest.fixture
def watched(e2e_user: Any) -> Stage:  # noqa: F811
    """The project, with jo as its owner (database work before Playwright's event loop)."""
    stage = make_project()
    Membership.objects.create(project=stage.project, user=e2e_user, role=Membership.Role.OWNER)
    return stage


def stored_seqs(stage: Stage) -> list[int]:
    """Read in a plain thread: Playwright's event loop forbids ORM calls in this one."""

    def read() -> list[int]:
        try:
            deployment = Deployment.objects.filter(stage=stage, kind="deploy").get()
            return [e["seq"] for e in run_selectors.deployment_events(deployment=deployment)]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(read).result()


def test_a_reload_and_a_dropped_socket_mid_deploy_show_every_event_once_in_order(
    watched: Stage,
    page: Page,  # noqa: F811
) -> None:
    stage = watched
    sockets: list[WebSocketRoute] = []

    def through(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/ws/deployments/.*"), through)
    log_in(page, "jo")
    page.goto(f"/projects/{stage.project.name}/")
    page.get_by_role("button", name="Plan").click()
    expect(page.locator("#plan-table")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    page.get_by_role("button", name=re.compile(r"^Deploy (these changes|this plan)$")).click()
    expect(page.locator("#run")).to_have_attribute("data-kind", "deploy")

    # mid-deploy: a reload, then the connection dropped under the page
    wait_for_log(page, 6)
    page.reload()
    wait_for_log(page, 20)
    assert sockets, "the page never opened its websocket"
    sockets[-1].close()
    expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=RUN_TIMEOUT_MS)

    stored = stored_seqs(stage)
    shown = seqs_on_page(page)
    assert len(sockets) >= 3  # first page, after the reload, after the drop
    assert shown == stored == list(range(1, len(stored) + 1))
