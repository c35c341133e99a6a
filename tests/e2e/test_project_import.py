"""Importing a project file in the browser: an error at its line, fixed in place, applied."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_journey import log_in

pytestmark = pytest.mark.e2e

FILE = """\
version: 1
project:
  name: imported
agents:
- name: support
  memory_mb: lots
components:
- kind: table
  name: orders
links:
- source: agent:support
  target: table:orders
  settings:
    env_name: ORDERS_TABLE
"""


def test_a_file_with_an_error_is_shown_at_its_line_fixed_and_applied(
    e2e_user: Any, page: Page
) -> None:
    log_in(page, e2e_user.username)
    page.get_by_role("link", name="Import a project file…").click()
    text = page.get_by_label("Project file")
    text.fill(FILE)
    page.get_by_role("button", name="Preview").click()

    problems = page.locator("#file-problems")
    expect(problems).to_contain_text("line 6, column 14")
    expect(problems).to_contain_text("agents.0.memory_mb")
    problems.get_by_role("link", name="line 6, column 14").click()
    selected = page.evaluate(
        "() => { const a = document.getElementById('file-text');"
        " return a.value.slice(a.selectionStart, a.selectionEnd); }"
    )
    assert selected == "  memory_mb: lots"  # the line in error, selected for fixing

    text.fill(FILE.replace("memory_mb: lots", "memory_mb: 2048"))
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#file-preview")
    expect(preview).to_contain_text("New project imported")
    expect(preview).to_contain_text("agent:support")
    expect(preview).to_contain_text("link agent:support->table:orders")
    page.get_by_role("button", name="Apply 4 changes").click()

    expect(page).to_have_url(re.compile(r"/projects/imported/$"))
    expect(page.locator('[data-node="agent:support"]')).to_have_count(1)
    expect(page.locator('[data-node="table:orders"]')).to_have_count(1)
