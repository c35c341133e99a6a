"""Log lines an operator can search: JSON in services mode, readable lines embedded, each with
the time, level, logger and the run and request it belongs to; secrets never in them."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from dashboard import logs
from dashboard.access import secrets
from dashboard.runs.execution import DbThread

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-live-4f9a2c7e1b"
log = logging.getLogger("dashboard.tests.logs")


@contextmanager
def capture(formatter: logging.Formatter) -> Iterator[io.StringIO]:
    """What the console handler would write, with the settings' filter and this formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(formatter)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
def json_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    with capture(logs.JsonFormatter()) as stream:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def text_lines() -> Iterator[Callable[[], list[str]]]:
    with capture(logs.text_formatter()) as stream:
        yield lambda: stream.getvalue().splitlines()


def test_a_json_line_has_time_level_logger_and_the_run_and_request(
    json_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    token = logs.request_id.set("req-0123456789")
    try:
        with logs.run_context(42):
            log.warning("deployment #%s stopped", 42)
    finally:
        logs.request_id.reset(token)
    log.info("outside any run")

    inside, outside = json_lines()

    assert inside["time"].endswith("Z") and inside["time"][:2] == "20"
    assert (inside["level"], inside["logger"]) == ("WARNING", "dashboard.tests.logs")
    assert inside["message"] == "deployment #42 stopped"
    assert (inside["run_id"], inside["request_id"]) == (42, "req-0123456789")
    assert "run_id" not in outside and "request_id" not in outside


def test_a_secret_never_appears_in_a_json_line(
    json_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    secrets.seal(SECRET)  # the process has handled it: from now on it is redacted

    log.error("calling the model with key %s failed", SECRET)
    try:
        raise RuntimeError(f"401 for key {SECRET}")
    except RuntimeError:
        log.exception("the chat failed")

    written = [line for line in json_lines() if line["logger"] == log.name]
    text = json.dumps(written)

    assert SECRET not in text
    assert written[0]["message"] == "calling the model with key [redacted] failed"
    assert "401 for key [redacted]" in written[1]["exc"]


def test_a_readable_line_names_time_level_logger_and_run(
    text_lines: Callable[[], list[str]],
) -> None:
    with logs.run_context(7):
        log.info("started")

    (line,) = text_lines()

    date, time_, rest = line.split(" ", 2)
    assert len(date) == 10 and ":" in time_
    assert rest == "INFO dashboard.tests.logs [run=7]: started"


@pytest.mark.django_db
def test_each_request_gets_an_id_in_its_answer_and_its_log_lines(
    alice: Any, client: Client, json_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    client.force_login(alice)

    missing = client.get("/projects/no-such-project/")
    from_proxy = client.get("/projects/nope/", headers={"X-Request-ID": "proxy-1234abcd"})
    forged = client.get("/projects/nope/", headers={"X-Request-ID": "x\nforged line"})

    ids = [r["X-Request-ID"] for r in (missing, from_proxy, forged)]
    warned = [line for line in json_lines() if line["logger"] == "django.request"]
    assert len(ids[0]) == 32 and ids[1] == "proxy-1234abcd"
    assert "\n" not in ids[2] and len(ids[2]) == 32
    assert [line["request_id"] for line in warned] == ids


def test_a_runs_threads_log_with_its_id(json_lines: Callable[[], list[dict[str, Any]]]) -> None:
    with logs.run_context(9):
        db = DbThread("test-db")
        watch = threading.Thread(target=logs.in_this_context(log.info), args=("watching",))
    try:
        # Called from a thread with no context, as the engine's threads do.
        caller = threading.Thread(target=db.call, args=(log.info, "saved"))
        caller.start()
        caller.join()
        watch.start()
        watch.join()
    finally:
        db._pool.shutdown(wait=True)

    assert {(line["message"], line.get("run_id")) for line in json_lines()} == {
        ("saved", 9),
        ("watching", 9),
    }


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "text"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "json"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0", "LOG_FORMAT": "text"}, "text"),
        ({"LOG_FORMAT": "json"}, "json"),
    ],
)
def test_services_mode_writes_json_and_embedded_readable_lines(
    env: dict[str, str], expected: str, tmp_path: Path
) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "LOG_FORMAT")}
    script = (
        "import logging.config, dashboard.settings as s; logging.config.dictConfig(s.LOGGING); "
        "logging.getLogger('x').warning('hello')"
    )

    ran = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, **env, "STRANDS_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    line = ran.stderr.strip().splitlines()[-1]
    if expected == "json":
        assert json.loads(line)["message"] == "hello"
    else:
        assert line.endswith(" WARNING x: hello")
