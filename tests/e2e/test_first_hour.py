"""A new user's first hour in a real browser, with an eye on what the browser itself reports.

One walk through every main page (login, projects, canvas, plan, deploy, the run page,
history, agent chat, members, stage settings) that fails on any console error, page error,
failed request or 4xx/5xx answer, and on what a new user notices along the way: empty
pages that say what to do, new canvas nodes on free space, a progress counter that counts
against the plan, and a projects list that shows each stage's health.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, Response, expect

from tests.e2e.test_canvas import node
from tests.e2e.test_journey import RUN_TIMEOUT_MS, create_project, log_in, wait_for_run

pytestmark = pytest.mark.e2e

MIN_GAP_PX = 30  # what reads as "apart" rather than "touching"

# Every change of the run page's counter and bar, kept from the first frame (before any
# page script runs), so the test sees what the user saw mid-run, not only the end.
WATCH_PROGRESS = """
window.__progress = [];
const record = () => {
  const text = document.getElementById('progress-text');
  const bar = document.getElementById('progress');
  if (text && bar) window.__progress.push({text: text.textContent, value: bar.value, max: bar.max});
};
document.addEventListener('DOMContentLoaded', () => {
  record();
  new MutationObserver(record).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['value', 'max']});
});
"""


class BrowserComplaints:
    """What the browser reports while the user walks: console errors, page errors, failures."""

    def __init__(self, page: Page) -> None:
        self.seen: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.seen.append(f"page error: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._answered)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.seen.append(f"console: {message.text} ({message.location.get('url', '')})")

    def _failed(self, request: Request) -> None:
        if request.failure and "ERR_ABORTED" not in request.failure:  # a navigation left the page
            self.seen.append(f"failed: {request.method} {request.url}: {request.failure}")

    def _answered(self, response: Response) -> None:
        if response.status >= 400:
            self.seen.append(f"{response.status}: {response.request.method} {response.url}")


def gap(a: dict[str, float], b: dict[str, float]) -> float:
    """The empty space between two boxes (negative when they overlap)."""
    across = max(b["x"] - (a["x"] + a["width"]), a["x"] - (b["x"] + b["width"]))
    down = max(b["y"] - (a["y"] + a["height"]), a["y"] - (b["y"] + b["height"]))
    return max(across, down)


def assert_apart_and_in_view(page: Page, keys: list[str], in_view: list[str]) -> None:
    """No two of `keys` touch, and every one of `in_view` is wholly in view."""
    boxes = {key: node(page, key).locator(".body").bounding_box() for key in keys}
    view = page.locator("#canvas-svg").bounding_box()
    assert view and all(boxes.values())
    for key in in_view:
        box = boxes[key]
        assert view["x"] <= box["x"] <= view["x"] + view["width"] - box["width"], (key, box)
        assert view["y"] <= box["y"] <= view["y"] + view["height"] - box["height"], (key, box)
    placed = list(boxes.values())
    for i, box in enumerate(placed):
        for other in placed[i + 1 :]:
            assert gap(box, other) >= MIN_GAP_PX, boxes


def test_a_new_users_first_hour_is_clean_and_says_what_to_do(e2e_user: Any, page: Page) -> None:
    complaints = BrowserComplaints(page)
    page.add_init_script(WATCH_PROGRESS)

    # Given a new user with no projects
    log_in(page, "jo")
    expect(page.locator("#projects")).to_contain_text("No projects yet")

    # When they create a project, its canvas says what to do next, with the button to do it
    create_project(page, "first")
    expect(page.locator("#canvas.is-ready")).to_be_visible()
    empty = page.locator("#canvas .canvas-empty")
    expect(empty).to_contain_text("Add an agent")
    empty.get_by_role("button", name="Add an agent").click()
    expect(node(page, "agent:agent-1")).to_be_visible()

    # And two more nodes added from the palette in quick succession each land on free space,
    # clear of the others, in view
    palette = page.locator("#canvas .palette")
    palette.get_by_role("button", name="S3 bucket", exact=True).click()
    palette.get_by_role("button", name="SQS queue", exact=True).click()
    keys = ["agent:agent-1", "bucket:bucket-1", "queue:queue-1"]
    for key in keys:
        expect(node(page, key)).to_be_visible()
    assert_apart_and_in_view(page, keys, in_view=keys)

    # And when zoomed in so far that no free space is left in view, the next node still
    # lands clear of the others, and the view follows it
    page.evaluate(
        """(k) => {  // the agent at the view's top-left, so near that no other node fits beside
            const g = document.querySelector('#canvas .cnode[data-key="agent:agent-1"]');
            const [x, y] = g.getAttribute('transform').match(/-?[0-9.]+/g).map(Number);
            const view = {x: -(x - 24) * k, y: -(y - 24) * k, k};
            document.getElementById('canvas').dispatchEvent(new CustomEvent('canvas:set-view', {detail: view}));
        }""",
        3.5,
    )
    palette.get_by_role("button", name="SQS queue", exact=True).click()
    expect(node(page, "queue:queue-2")).to_be_visible()
    assert_apart_and_in_view(page, [*keys, "queue:queue-2"], in_view=["queue:queue-2"])

    # And its history and members pages say what to do next, each with the button to do it
    page.goto("/projects/first/deployments/")
    history_empty = page.locator(".empty")
    expect(history_empty).to_contain_text("Nothing has run yet")
    expect(history_empty.get_by_role("button", name="Plan dev")).to_be_visible()
    page.goto("/projects/first/members/")
    expect(page.locator("#members")).to_contain_text("Only you")
    expect(page.locator("#members").get_by_role("link", name="Invite a user")).to_be_visible()

    # When they plan from the history page's empty state, then deploy that plan
    page.goto("/projects/first/deployments/")
    page.get_by_role("button", name="Plan dev").click()
    plan_table = page.locator("#plan-table")
    expect(plan_table).to_be_visible(timeout=RUN_TIMEOUT_MS)
    planned = plan_table.locator("tbody tr").count()
    assert planned > 1
    page.get_by_role("button", name="Deploy this plan").click()
    expect(page.locator("#run")).to_have_attribute("data-kind", "deploy")
    wait_for_run(page)

    # Then the run page counted against the whole plan from its first frame, never backwards
    seen = page.evaluate("window.__progress")
    counts = [m for m in (re.fullmatch(r"(\d+) of (\d+) done", s["text"]) for s in seen) if m]
    assert counts, seen
    assert {int(m[2]) for m in counts} == {planned}, seen
    fractions = [s["value"] / s["max"] for s in seen if s["max"]]
    assert fractions == sorted(fractions), seen
    expect(page.locator("#progress-text")).to_have_text(f"{planned} of {planned} done")
    run_path = urlsplit(page.url).path

    # And the projects list shows the stage's last run, who ran it and what it holds
    page.goto("/")
    stage = page.locator('#projects [data-project="first"] [data-stage="dev"]')
    expect(stage).to_contain_text("Deploy")
    expect(stage).to_contain_text("Succeeded")
    expect(stage).to_contain_text("jo")
    expect(stage).to_contain_text(f"{planned} resources")
    expect(stage.get_by_role("link", name=re.compile("Deploy #"))).to_have_attribute(
        "href", run_path
    )

    # And history, agent chat, members and stage settings all open without a complaint
    page.goto("/projects/first/deployments/")
    expect(page.locator("#history tbody tr")).to_have_count(2)
    page.goto("/projects/first/agents/agent-1/chat/")
    page.get_by_label("Prompt").fill("hello")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("[data-chat-answer]")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    page.goto("/projects/first/members/")
    expect(page.locator("#invite-form")).to_be_visible()
    page.goto("/projects/first/stages/dev/settings/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto("/history/")
    expect(page.locator("#history")).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert complaints.seen == [], complaints.seen
