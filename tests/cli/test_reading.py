"""Given a project, when a user asks for its status, history or file, then they get it in a
form they can read (or a script can parse)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.cli.fakes import FakeServer, error, reply, run_cli

YAML = "project: demo\nstages:\n  dev: {}\n"


def test_status_shows_the_last_run_and_endpoints(server: FakeServer, tmp_path: Path) -> None:
    last = {"id": 4, "kind": "deploy", "status": "SUCCEEDED", "counts": {"succeeded": 3}}
    server.on("GET", "/api/projects/demo/stages/prod/status", reply(200, {
        "stage": "prod", "last_run": last, "resources": 3,
        "endpoints": [{"node": "api:public", "method": "GET", "auth": "iam",
                       "url": "https://abc.execute-api.test/"}]}))  # fmt: skip

    result = run_cli(server, "status", "demo", "--stage", "prod", tmp_path=tmp_path)

    assert result.code == 0, result.err
    assert "last run: deploy #4: SUCCEEDED (3 succeeded)" in result.out
    assert "resources: 3" in result.out
    row = next(line for line in result.out.splitlines() if "api:public" in line)
    assert "https://abc.execute-api.test/" in row and "GET" in row and "iam" in row


def test_status_of_a_stage_never_deployed(server: FakeServer, tmp_path: Path) -> None:
    server.on("GET", "/api/projects/demo/stages/dev/status", reply(200, {
        "stage": "dev", "last_run": None, "resources": 0, "endpoints": []}))  # fmt: skip

    result = run_cli(server, "status", "demo", "--json", tmp_path=tmp_path)

    assert json.loads(result.out)["last_run"] is None


def test_history_lists_runs_with_who_started_them(server: FakeServer, tmp_path: Path) -> None:
    runs = [{"id": 12, "kind": "deploy", "status": "FAILED", "created_at": "2026-05-01T10:00:00Z",
             "triggered_by_name": "alice (token ci-deploy)"}]  # fmt: skip
    server.on("GET", "/api/projects/demo/runs", reply(200, {"runs": runs}))

    result = run_cli(server, "history", "demo", "--limit", "5", tmp_path=tmp_path)

    assert result.code == 0, result.err
    assert server.requests[0].url.params["limit"] == "5"
    row = next(line for line in result.out.splitlines() if "12" in line)
    assert "FAILED" in row and "alice (token ci-deploy)" in row


def test_history_names_the_starter_under_either_field(server: FakeServer, tmp_path: Path) -> None:
    runs = [{"id": 3, "kind": "plan", "status": "SUCCEEDED", "created_at": "2026-05-01",
             "triggered_by": "bob"}]  # fmt: skip
    server.on("GET", "/api/projects/demo/runs", reply(200, {"runs": runs}))

    result = run_cli(server, "history", "demo", tmp_path=tmp_path)

    assert "bob" in next(line for line in result.out.splitlines() if "SUCCEEDED" in line)


def test_export_prints_the_project_file(server: FakeServer, tmp_path: Path) -> None:
    server.on("GET", "/api/projects/demo/file",
              lambda request: httpx.Response(200, text=YAML))  # fmt: skip

    result = run_cli(server, "export", "demo", tmp_path=tmp_path)

    assert result.code == 0, result.err
    assert result.out == YAML


def test_export_writes_a_file(server: FakeServer, tmp_path: Path) -> None:
    server.on("GET", "/api/projects/demo/file",
              lambda request: httpx.Response(200, text=YAML))  # fmt: skip
    target = tmp_path / "out.yaml"

    result = run_cli(server, "export", "demo", "-o", str(target), tmp_path=tmp_path)

    assert result.code == 0, result.err
    assert target.read_text() == YAML
    assert result.out == ""


def test_export_of_a_hidden_project_says_not_found(server: FakeServer, tmp_path: Path) -> None:
    server.on("GET", "/api/projects/demo/file", error(404, "no project named demo"))

    result = run_cli(server, "export", "demo", "-o", str(tmp_path / "out.yaml"), tmp_path=tmp_path)

    assert result.code == 1
    assert "no project named demo" in result.err
    assert not (tmp_path / "out.yaml").exists()
