"""Given a stage, when a user deploys or destroys it and waits, then they follow each resource
to the end, the exit code says how it ended, and Ctrl-C cancels the run on the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.fakes import FakeServer, event, event_stream, reply, run_cli

STAGE = "/api/projects/demo/stages/dev"
EVENTS = "/api/runs/7/events"


def started(kind: str) -> dict[str, Any]:
    return {"id": 7, "kind": kind, "status": "QUEUED", "url": "/runs/7/", "events_url": EVENTS}


def finished(kind: str, status: str = "SUCCEEDED", **extra: Any) -> dict[str, Any]:
    counts = {"succeeded": 2, "failed": 0, "skipped": 0, "total": 2}
    return {"id": 7, "kind": kind, "status": status, "counts": counts, "error": "",
            "plan_summary": None, "advice": [], **extra}  # fmt: skip


DEPLOY_EVENTS = (
    event(1, None, "in_progress", "deploy started"),
    event(2, "queue:jobs", "pending"),
    event(3, "agent:support", "pending"),
    event(4, "queue:jobs", "succeeded", "created acme-dev-jobs"),
    event(5, "agent:support", "succeeded", "created the function"),
)
STATUS = {"stage": "dev", "last_run": finished("deploy"), "resources": 2,
          "endpoints": [{"node": "api:public", "url": "https://abc.execute-api.test/"}]}  # fmt: skip


def deploying(server: FakeServer, *stream: Any, result: dict[str, Any] | None = None) -> None:
    server.on("POST", f"{STAGE}/deploy", reply(200, started("deploy")))
    server.on("GET", EVENTS, *stream, reply(200, {"events": [], "done": True}))
    server.on("GET", "/api/runs/7", reply(200, result or finished("deploy")))
    server.on("GET", f"{STAGE}/status", reply(200, STATUS))


def test_deploy_wait_follows_the_stream_and_shows_the_endpoints(
    server: FakeServer, tmp_path: Path
) -> None:
    deploying(server, event_stream(*DEPLOY_EVENTS))

    result = run_cli(server, "deploy", "demo", "--wait", tmp_path=tmp_path)

    assert result.code == 0, result.err
    stream_request = server.called("GET", EVENTS)[0]
    assert stream_request.headers["accept"] == "text/event-stream"
    assert "10:00:04 queue:jobs succeeded: created acme-dev-jobs" in result.err
    assert "run in_progress: deploy started" in result.err
    assert "deploy #7: SUCCEEDED (2 succeeded)" in result.out
    assert "https://abc.execute-api.test/" in result.out
    # The JSON page asked after the stream starts after the last event seen.
    assert server.called("GET", EVENTS)[-1].url.params["after"] == "5"


def test_on_a_terminal_each_resource_has_a_row_with_its_state(
    server: FakeServer, tmp_path: Path
) -> None:
    deploying(server, event_stream(*DEPLOY_EVENTS))

    result = run_cli(server, "deploy", "demo", "--wait", tmp_path=tmp_path, terminal=True)

    assert result.code == 0, result.err
    last_frame = result.err[result.err.rindex("queue:jobs") - 200 :]
    assert "queue:jobs" in last_frame and "agent:support" in last_frame
    assert "created the function" in last_frame
    assert "2/2" in last_frame


def test_without_a_stream_the_events_are_polled(server: FakeServer, tmp_path: Path) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        # This server answers JSON whatever the Accept header says, 3 events a page.
        after = int(request.url.params["after"])
        events = [e for e in DEPLOY_EVENTS if e["seq"] > after][:3]
        return httpx.Response(200, json={"events": events, "done": after >= 5})

    deploying(server)
    server.on("GET", EVENTS, page)

    result = run_cli(server, "deploy", "demo", "--wait", tmp_path=tmp_path)

    assert result.code == 0, result.err
    assert "queue:jobs pending" in result.err
    assert "agent:support succeeded: created the function" in result.err
    # The first request tries the stream; then pages, each after the last event seen.
    assert [r.url.params["after"] for r in server.called("GET", EVENTS)] == ["0", "0", "3", "5"]
    assert result.sleeps  # it waited between pages


def test_an_events_page_without_done_ends_with_the_run_status(
    server: FakeServer, tmp_path: Path
) -> None:
    deploying(server)
    server.on("GET", EVENTS, reply(200, {"id": 7, "status": "RUNNING", "events": []}),
              reply(200, {"id": 7, "status": "RUNNING", "events": [DEPLOY_EVENTS[3]]}),
              reply(200, {"id": 7, "status": "SUCCEEDED", "events": [DEPLOY_EVENTS[4]]}))  # fmt: skip

    result = run_cli(server, "deploy", "demo", "--wait", tmp_path=tmp_path)

    assert result.code == 0, result.err
    assert "agent:support succeeded" in result.err
    assert len(server.called("GET", EVENTS)) == 3


def test_a_dropped_stream_resumes_without_repeating_events(
    server: FakeServer, tmp_path: Path
) -> None:
    def dropped(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    deploying(server, event_stream(*DEPLOY_EVENTS[:3]), reply(200, {"events": [DEPLOY_EVENTS[2]],
              "done": False}), dropped, reply(200, {"events": list(DEPLOY_EVENTS[3:]), "done": True}))  # fmt: skip

    result = run_cli(server, "deploy", "demo", "--wait", tmp_path=tmp_path)

    assert result.code == 0, result.err
    assert result.err.count("agent:support pending") == 1
    assert "agent:support succeeded" in result.err


def test_a_failed_deploy_exits_1_with_its_error(server: FakeServer, tmp_path: Path) -> None:
    failure = finished("deploy", "FAILED", error="error creating SQS queue (acme-dev-jobs): denied")
    deploying(server, event_stream(event(1, "queue:jobs", "failed", "denied")), result=failure)

    result = run_cli(server, "deploy", "demo", "--wait", tmp_path=tmp_path)

    assert result.code == 1
    assert "deploy #7 FAILED: error creating SQS queue (acme-dev-jobs): denied" in result.err


def test_deploy_without_wait_prints_the_run_and_returns(server: FakeServer, tmp_path: Path) -> None:
    server.on("POST", f"{STAGE}/deploy", reply(200, started("deploy")))

    result = run_cli(server, "deploy", "demo", tmp_path=tmp_path)

    assert result.code == 0
    assert "deploy #7 QUEUED: /runs/7/" in result.out
    assert server.called("GET", EVENTS) == []


def test_deploy_with_a_file_applies_it_first(server: FakeServer, tmp_path: Path) -> None:
    path = tmp_path / "strands-deploy.yaml"
    path.write_text("project: demo\n")
    preview = {"project": "demo", "exists": True, "unchanged": False,
               "changes": [{"action": "add", "key": "queue:jobs", "fields": []}]}  # fmt: skip
    server.on("POST", "/api/files/preview", reply(200, preview))
    server.on("POST", "/api/files/apply", reply(200, preview))
    deploying(server, event_stream(*DEPLOY_EVENTS))

    result = run_cli(
        server, "deploy", "demo", "-f", str(path), "--wait", "--yes", tmp_path=tmp_path
    )

    assert result.code == 0, result.err
    paths = [r.url.path for r in server.requests if r.method == "POST"]
    assert paths == ["/api/files/preview", "/api/files/apply", f"{STAGE}/deploy"]


@pytest.mark.parametrize("where", ["stream", "poll"])
def test_ctrl_c_while_waiting_cancels_the_run_and_exits_130(
    server: FakeServer, tmp_path: Path, where: str
) -> None:
    def interrupted(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    def ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    server.on("POST", f"{STAGE}/deploy", reply(200, started("deploy")))
    if where == "stream":
        server.on("GET", EVENTS, interrupted)
    else:
        server.on("GET", EVENTS, reply(200, {"events": [], "done": False}))
    server.on("POST", "/api/runs/7/cancel", reply(200, {"id": 7, "status": "CANCELLING"}))

    result = run_cli(server, "deploy", "demo", "--wait", tmp_path=tmp_path, sleep=ctrl_c)

    assert result.code == 130
    assert len(server.called("POST", "/api/runs/7/cancel")) == 1
    assert "asked the server to cancel run #7" in result.err


def test_destroy_needs_a_stage(server: FakeServer, tmp_path: Path) -> None:
    result = run_cli(server, "destroy", "demo", "--yes", tmp_path=tmp_path)

    assert result.code == 3
    assert "--stage" in result.err
    assert server.requests == []


def test_destroy_asks_and_no_answer_destroys_nothing(server: FakeServer, tmp_path: Path) -> None:
    result = run_cli(server, "destroy", "demo", "--stage", "dev", "--wait", tmp_path=tmp_path)

    assert result.code == 1
    assert "Destroy every resource of demo/dev" in result.err
    assert server.requests == []


def test_destroy_yes_wait_follows_to_the_end(server: FakeServer, tmp_path: Path) -> None:
    server.on("POST", f"{STAGE}/destroy", reply(200, started("destroy")))
    server.on("GET", EVENTS, event_stream(event(1, "queue:jobs", "succeeded", "deleted")),
              reply(200, {"events": [], "done": True}))  # fmt: skip
    server.on("GET", "/api/runs/7", reply(200, finished("destroy")))

    result = run_cli(server, "destroy", "demo", "--stage", "dev", "--wait", "--yes",
                     tmp_path=tmp_path)  # fmt: skip

    assert result.code == 0, result.err
    assert "destroy #7: SUCCEEDED" in result.out
    assert "queue:jobs succeeded: deleted" in result.err


def test_a_cancelled_run_is_a_failure(server: FakeServer, tmp_path: Path) -> None:
    deploying(server, event_stream(), result=finished("deploy", "CANCELLED"))

    result = run_cli(server, "deploy", "demo", "--wait", tmp_path=tmp_path)

    assert result.code == 1
    assert "deploy #7 CANCELLED" in result.err
