"""Given a busy, strict or missing server, when a command calls it, then the user is told why
and a busy server is retried once after the time it asks for."""

from __future__ import annotations

from pathlib import Path

from strands_cli.sse import parse_events
from tests.cli.fakes import FakeServer, error, reply, run_cli

STATUS = "/api/projects/demo/stages/dev/status"
ANSWER = {"stage": "dev", "last_run": None, "resources": 0, "endpoints": []}


def test_a_rate_limited_call_is_retried_once_after_retry_after(
    server: FakeServer, tmp_path: Path
) -> None:
    server.on("GET", STATUS, error(429, "slow down", retry_after=7), reply(200, ANSWER))

    result = run_cli(server, "status", "demo", tmp_path=tmp_path)

    assert result.code == 0, result.err
    assert result.sleeps == [7.0]
    assert len(server.called("GET", STATUS)) == 2


def test_a_second_refusal_is_reported_with_the_wait_the_server_asks(
    server: FakeServer, tmp_path: Path
) -> None:
    server.on("GET", STATUS, error(429, "too many requests for this token", retry_after=30))

    result = run_cli(server, "status", "demo", tmp_path=tmp_path)

    assert result.code == 1
    assert len(server.called("GET", STATUS)) == 2
    assert "too many requests for this token (the server asks to retry in 30 s)" in result.err


def test_an_unavailable_queue_is_retried_once(server: FakeServer, tmp_path: Path) -> None:
    run = {"id": 5, "kind": "deploy", "status": "QUEUED", "url": "/runs/5/"}
    path = "/api/projects/demo/stages/dev/deploy"
    server.on("POST", path, error(503, "the queue is unavailable", retry_after=2), reply(200, run))

    result = run_cli(server, "deploy", "demo", tmp_path=tmp_path)

    assert result.code == 0, result.err
    assert result.sleeps == [2.0]


def test_a_refused_token_asks_to_log_in_again(server: FakeServer, tmp_path: Path) -> None:
    server.on("GET", STATUS, error(401, "unknown, expired or revoked token"))

    result = run_cli(server, "status", "demo", tmp_path=tmp_path)

    assert result.code == 3
    assert "unknown, expired or revoked token" in result.err
    assert "strands-deploy login" in result.err


def test_an_unknown_project_shows_the_servers_message(server: FakeServer, tmp_path: Path) -> None:
    server.on("GET", STATUS, error(404, "no project named demo"))

    result = run_cli(server, "status", "demo", tmp_path=tmp_path)

    assert result.code == 1
    assert "error: no project named demo" in result.err


def test_a_role_too_low_is_a_failure_naming_it(server: FakeServer, tmp_path: Path) -> None:
    server.on("POST", "/api/projects/demo/stages/dev/destroy", error(403, "only owners destroy"))

    result = run_cli(server, "destroy", "demo", "--stage", "dev", "--yes", tmp_path=tmp_path)

    assert result.code == 1
    assert "only owners destroy" in result.err


def test_names_are_quoted_into_the_path(server: FakeServer, tmp_path: Path) -> None:
    run_cli(server, "status", "a/b", "--stage", "x y", tmp_path=tmp_path)

    assert server.requests[0].url.raw_path.startswith(b"/api/projects/a%2Fb/stages/x%20y/status")


def test_event_stream_messages_are_read_as_json_with_their_sequence() -> None:
    lines = [": keep-alive", "", "id: 4", 'data: {"resource": "queue:jobs",', 'data:  "status": "pending"}',
             "", "event: end", "data: {}", "", 'id: 5', 'data: {"seq": 5, "resource": null}']  # fmt: skip

    assert list(parse_events(lines)) == [
        {"resource": "queue:jobs", "status": "pending", "seq": 4},
        {"seq": 5, "resource": None},
    ]
