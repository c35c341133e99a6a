"""The compose stack without docker: the web, worker and sandbox services' own commands, with
compose's environment, on this session's database and REDIS_URL (PostgreSQL and Redis in CI),
driven over plain HTTP: log in, create a project with a queue, deploy it to the sandbox, watch
the run to its end, find the project cannot be deleted while the queue exists, destroy, delete.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from dashboard.runs.models import DeployedResource
from tests.conftest import _database_env, _wait_ready
from tests.support import compose

ROOT = compose.ROOT
RUN_TIMEOUT_S = 180

pytestmark = pytest.mark.worker


class Stack:
    """The services' processes; each in its own session so that all of it stops."""

    def __init__(self, tmp: Path) -> None:
        self.tmp, self.processes = tmp, []

    def start(self, name: str, command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (self.tmp / f"{name}.log").open("wb") as out:
            process = subprocess.Popen(
                ["sh", "-c", command], cwd=ROOT, env=env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_for_port(port: int, stack: Stack, name: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).connect()
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{name} did not listen on {port}:\n{stack.log(name)}")


@pytest.fixture
def stack(transactional_db: None, redis_url: str, tmp_path: Path) -> Iterator[tuple[int, Stack]]:
    services = compose.services()
    web_port, sandbox_port = compose.free_port(), compose.free_port()
    env = compose.environment(services["web"])
    env |= {
        "REDIS_URL": redis_url,
        "SANDBOX_ENDPOINT_URL": f"http://127.0.0.1:{sandbox_port}",
        "SANDBOX_PORT": str(sandbox_port),
        "AGENT_CODE_ROOT": str(tmp_path / "data" / "agent-code"),
        "STRANDS_DEPLOY_CACHE_DIR": str(tmp_path / "data" / "cache"),
        **_database_env(),
    }
    env = {k: v for k, v in {**os.environ, **env}.items() if v != ""}
    env.pop("DEBUG", None)
    env["DEBUG"] = "0"
    running = Stack(tmp_path)
    try:
        sandbox = compose.command(services["sandbox"]).replace("0.0.0.0", "127.0.0.1")
        running.start("sandbox", sandbox, env)
        wait_for_port(sandbox_port, running, "sandbox")
        web = compose.command(services["web"])
        web = web.replace("-b 0.0.0.0 -p 8000", f"-b 127.0.0.1 -p {web_port}")
        running.start("web", web, env)
        wait_for_port(web_port, running, "web")
        worker = running.start("worker", compose.command(services["worker"]), env)
        _wait_ready(worker, tmp_path / "worker.log")
        yield web_port, running
    finally:
        running.stop()


class Browser:
    """Plain HTTP with cookies, as a browser on http://localhost would send them."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, SimpleCookie()

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Host": f"localhost:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode({**form, "csrfmiddlewaretoken": self.cookies["csrftoken"].value})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://localhost:{self.port}"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            assert "; Secure" not in header, header  # it would never come back over HTTP
            self.cookies.load(header)
        response.text = response.read().decode()
        return response

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str] | None = None) -> Any:
        return self.request("POST", path, form or {})


class FormValues(HTMLParser):
    """What a browser would submit from the first form of a page, left as it is."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if self._done or ("name" not in a and tag != "option"):
            return
        if tag == "input" and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values[a["name"]] = a.get("value", "on")
            else:
                self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select is not None:
            if "selected" in a or self._select not in self.values:
                self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[a["name"]] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._done = True


def form_values(html: str) -> dict[str, str]:
    parser = FormValues()
    parser.feed(html[html.index("<main") :])
    return parser.values


def watch(browser: Browser, run_url: str) -> str:
    """The run's page, reloaded until its status badge shows an end."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        page = browser.get(run_url)
        status = re.search(r'id="run-status"[^>]*>([^<]+)<', page.text)
        if status and status.group(1) in ("Succeeded", "Failed", "Cancelled"):
            return status.group(1)
        time.sleep(1)
    raise AssertionError(f"{run_url} did not end in {RUN_TIMEOUT_S} s")


def test_log_in_create_deploy_watch_destroy_and_delete_over_plain_http(
    stack: tuple[int, Stack], alice: Any
) -> None:
    port, running = stack
    browser = Browser(port)

    assert browser.get("/login/").status == 200
    logged_in = browser.post("/login/", {"username": "alice", "password": "alice-password-1"})
    assert logged_in.status == 302, logged_in.text[:500]

    created = browser.post("/", {"name": "shop", "description": ""})
    assert created.getheader("Location") == "/projects/shop/"
    new_queue = "/projects/shop/components/queue/new/"
    queue = browser.post(new_queue, {**form_values(browser.get(new_queue).text), "name": "jobs"})
    assert queue.status == 302, queue.text[:2000]

    deploy = browser.post("/projects/shop/stages/dev/deploy/")
    assert watch(browser, deploy.getheader("Location")) == "Succeeded", running.log("worker")
    assert DeployedResource.objects.filter(stage__project__name="shop").exists()

    refused = browser.post("/projects/shop/delete/")
    project_page = browser.get(refused.getheader("Location"))
    assert "destroy dev first:" in project_page.text

    destroy = browser.post("/projects/shop/stages/dev/destroy/", {"confirm_name": "shop"})
    assert watch(browser, destroy.getheader("Location")) == "Succeeded", running.log("worker")
    deleted = browser.post("/projects/shop/delete/")
    assert deleted.getheader("Location") == "/"
    projects = browser.get("/").text
    assert "shop deleted" in projects and 'href="/projects/shop/"' not in projects
