"""The compose stack's web service, run as compose runs it (its command, its environment, DEBUG
off, no TLS anywhere) minus PostgreSQL and Redis: `check --deploy` passes and a browser on
plain HTTP gets the login page and logs in, instead of a 301 to an https:// nothing serves."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support import compose

PASSWORD = "operator-password-1"
# Settings this process may have from its own environment that compose does not pass on.
NOT_PASSED = ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "SECURE_SSL_REDIRECT",
              "SECURE_PROXY_SSL_HEADER", "ALLOWED_HOSTS", "LOG_FORMAT")  # fmt: skip


@pytest.fixture(scope="module")
def web() -> dict[str, Any]:
    return compose.services()["web"]


@pytest.fixture(scope="module")
def env(web: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("compose")
    compose_env = compose.environment(web)
    # No PostgreSQL or Redis here: the embedded database and queue stand in for them; /data
    # (the shared volume) is a temporary directory.
    for name in ("DATABASE_URL", "REDIS_URL"):
        compose_env.pop(name)
    compose_env["STRANDS_VAR_DIR"] = str(data / "var")
    for name in ("AGENT_CODE_ROOT", "STRANDS_DEPLOY_CACHE_DIR"):
        compose_env[name] = compose_env[name].replace("/data", str(data), 1)
    mine = {k: v for k, v in os.environ.items() if k not in NOT_PASSED}
    return {**mine, **compose_env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=compose.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def server(web: dict[str, Any], env: dict[str, str]) -> Iterator[int]:
    """The web service's own command, with this interpreter and a free loopback port."""
    port = compose.free_port()
    command = compose.command(web).replace("-b 0.0.0.0 -p 8000", f"-b 127.0.0.1 -p {port}")
    process = subprocess.Popen(
        ["sh", "-c", command],
        cwd=compose.ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode() if process.stderr else "")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        created = manage(env, "createsuperuser", "--noinput", "--username", "op", "--email", "")
        assert created.returncode == 0, created.stderr
        yield port
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def request(
    port: int, method: str, path: str, cookies: dict[str, str], body: dict[str, str] | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": "localhost", "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    payload = None
    if body is not None:
        payload = urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=payload, headers=headers)
    response = connection.getresponse()
    return response, response.read()


def set_cookies(response: http.client.HTTPResponse) -> dict[str, Any]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return dict(jar)


def test_check_deploy_passes_with_the_compose_environment(env: dict[str, str]) -> None:
    checked = manage(env, "check", "--deploy")
    report = checked.stdout + checked.stderr

    assert checked.returncode == 0, report
    # What is left says only what the TLS proxy adds (redirect, HSTS, secure cookies).
    assert set(re.findall(r"\(([\w.]+)\)", report)) <= {
        "security.W004", "security.W008", "security.W012", "security.W016",
    }  # fmt: skip


def test_a_plain_http_browser_gets_the_login_page_and_logs_in(server: int) -> None:
    page, body = request(server, "GET", "/login/", {})
    cookies = set_cookies(page)

    assert page.status == 200, page.getheader("Location")
    assert b'name="password"' in body
    assert not cookies["csrftoken"]["secure"]  # a browser sends it back over HTTP

    token = cookies["csrftoken"].value
    form = {"username": "op", "password": PASSWORD, "csrfmiddlewaretoken": token}
    logged_in, _ = request(server, "POST", "/login/", {"csrftoken": token}, form)
    session = set_cookies(logged_in)["sessionid"]
    projects, _ = request(server, "GET", "/", {"sessionid": session.value})

    assert logged_in.status == 302, logged_in.getheader("Location")
    assert not session["secure"]
    assert projects.status == 200


def test_the_web_services_healthcheck_passes(web: dict[str, Any], server: int) -> None:
    probe = [part.replace(":8000/", f":{server}/") for part in web["healthcheck"]["test"][1:]]
    probe[0] = sys.executable if probe[0] == "python" else probe[0]

    checked = subprocess.run(probe, capture_output=True, text=True, timeout=30)

    assert checked.returncode == 0, checked.stderr
