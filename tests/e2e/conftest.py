"""Browser fixtures: a live daphne server in its own process, and headless Chromium.

The server runs on a free port against the test database and the sandbox from
tests/conftest.py. Embedded mode (no REDIS_URL): daphne runs the dramatiq worker
threads itself. Services mode (REDIS_URL set): the `dramatiq_worker` fixture runs
`manage.py rundramatiq` beside it, and both talk through Redis.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, _database_env

ARTIFACTS = ROOT / "var" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
E2E_PASSWORD = "journey-password-1"
# Assertions wait for what a user would wait for: CI's 2 cores run a worker, a sandbox
# and the server beside the browser, so Playwright's 5 s default is too tight.
EXPECT_TIMEOUT_MS = 15_000


def pytest_configure(config: pytest.Config) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's outcome so fixtures can keep evidence of a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_http(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 60
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"daphne did not start:\n{log.read_text(errors='replace')}")


@pytest.fixture
def e2e_user(transactional_db: None, django_user_model: Any) -> Any:
    """Committed (transactional_db), so the server process sees it."""
    return django_user_model.objects.create_user("jo", password=E2E_PASSWORD)


@pytest.fixture
def server_url(
    request: pytest.FixtureRequest, transactional_db: None, sandbox: str, tmp_path: Path
) -> Iterator[str]:
    """The base URL of a daphne process serving dashboard.asgi on a free port."""
    env = {
        **os.environ,
        **_database_env(),
        "SANDBOX_ENDPOINT_URL": sandbox,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "EMBEDDED_WORKER_THREADS": "4",
        "DEBUG": "false",
    }
    if os.environ.get("REDIS_URL"):
        request.getfixturevalue("dramatiq_worker")  # after it has flushed the spare Redis db
    env = {k: v for k, v in env.items() if v != ""}
    port = _free_port()
    log = tmp_path / "daphne.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "dashboard.asgi:application"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{url}/login/", process, log)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / "e2e-daphne.log").write_bytes(log.read_bytes())


@pytest.fixture
def page(request: pytest.FixtureRequest, server_url: str) -> Iterator[Any]:
    """A fresh Chromium page; on failure its screenshot goes to var/artifacts/."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(20_000)
        page = context.new_page()
        try:
            yield page
        finally:
            failed = getattr(request.node, "rep_call", None)
            if failed is not None and failed.failed:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "e2e-failure.png"), full_page=True)
            context.close()
            browser.close()
