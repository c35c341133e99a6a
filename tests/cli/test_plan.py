"""Given a stage, when a user or a CI job plans it, then the exit code says whether a deploy
would change something (as Terraform's -detailed-exitcode) or be refused, and a project file
that differs from the project is not planned silently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.fakes import FakeServer, event_stream, reply, run_cli

STAGE = "/api/projects/demo/stages/dev"
STARTED = {"id": 9, "kind": "plan", "status": "QUEUED", "url": "/runs/9/",
           "events_url": "/api/runs/9/events"}  # fmt: skip
SAME = {
    "project": "demo",
    "exists": True,
    "unchanged": True,
    "changes": [],
    "kept": [],
    "notes": [],
}
DIFFERENT = {**SAME, "unchanged": False,
             "changes": [{"action": "change", "key": "agent:support", "fields": [["timeout", 30, 60]]}]}  # fmt: skip


def planning(server: FakeServer, summary: dict[str, int], **extra: Any) -> None:
    run = {"id": 9, "kind": "plan", "status": "SUCCEEDED", "counts": {}, "error": "",
           "plan_summary": summary, "advice": [], **extra}  # fmt: skip
    server.on("POST", f"{STAGE}/plan", reply(200, STARTED))
    server.on("GET", "/api/runs/9/events", event_stream(), reply(200, {"events": [], "done": True}))
    server.on("GET", "/api/runs/9", reply(200, run))


def project_file(tmp_path: Path) -> str:
    path = tmp_path / "strands-deploy.yaml"
    path.write_text("project: demo\n")
    return str(path)


def test_changes_exit_2_with_detailed_exitcode(server: FakeServer, tmp_path: Path) -> None:
    planning(server, {"CREATE": 2, "UPDATE": 1, "NO_CHANGE": 3})

    result = run_cli(server, "plan", "demo", "--detailed-exitcode", tmp_path=tmp_path)

    assert result.code == 2, result.err
    assert "plan: 2 create, 1 update" in result.out


def test_no_changes_exit_0_with_detailed_exitcode(server: FakeServer, tmp_path: Path) -> None:
    planning(server, {"NO_CHANGE": 3})

    result = run_cli(server, "plan", "demo", "--detailed-exitcode", tmp_path=tmp_path)

    assert result.code == 0, result.err
    assert "plan: no changes" in result.out


def test_changes_exit_0_without_detailed_exitcode(server: FakeServer, tmp_path: Path) -> None:
    planning(server, {"CREATE": 2})

    assert run_cli(server, "plan", "demo", tmp_path=tmp_path).code == 0


def test_blocking_advice_exits_1_and_shows_the_fix(server: FakeServer, tmp_path: Path) -> None:
    advice = [
        {"code": "profile-geography", "severity": "blocking", "node": "agent:support",
         "field": "model_id", "message": "eu profile in us-east-1", "fix": "use us.anthropic..."},
        {"code": "memory-low", "severity": "warning", "node": "agent:support",
         "field": "memory", "message": "512 MB is tight", "fix": "1024"},
    ]  # fmt: skip
    planning(server, {"CREATE": 1}, advice=advice)

    result = run_cli(server, "plan", "demo", "--detailed-exitcode", tmp_path=tmp_path)

    assert result.code == 1
    assert "blocking: agent:support model_id: eu profile in us-east-1" in result.out
    assert "fix: use us.anthropic..." in result.out
    assert "warning: agent:support memory: 512 MB is tight" in result.out
    assert "1 blocking finding(s)" in result.err


def test_a_failed_plan_exits_1(server: FakeServer, tmp_path: Path) -> None:
    planning(server, {}, status="FAILED", error="AccessDenied reading the bucket")

    result = run_cli(server, "plan", "demo", "--detailed-exitcode", tmp_path=tmp_path)

    assert result.code == 1
    assert "AccessDenied reading the bucket" in result.err


def test_json_prints_the_run_for_scripts(server: FakeServer, tmp_path: Path) -> None:
    planning(server, {"CREATE": 2})

    result = run_cli(server, "plan", "demo", "--stage", "dev", "--json", tmp_path=tmp_path)

    document = json.loads(result.out)
    assert document["run"]["plan_summary"] == {"CREATE": 2}
    assert (document["project"], document["stage"], document["file"]) == ("demo", "dev", None)


def test_a_file_matching_the_project_is_planned(server: FakeServer, tmp_path: Path) -> None:
    server.on("POST", "/api/files/preview", reply(200, SAME))
    planning(server, {"NO_CHANGE": 1})

    result = run_cli(server, "plan", "demo", "-f", project_file(tmp_path), "--detailed-exitcode",
                     tmp_path=tmp_path)  # fmt: skip

    assert result.code == 0, result.err
    assert server.called("POST", f"{STAGE}/plan")


def test_a_file_that_would_change_the_project_is_refused(
    server: FakeServer, tmp_path: Path
) -> None:
    server.on("POST", "/api/files/preview", reply(200, DIFFERENT))
    planning(server, {"NO_CHANGE": 1})
    path = project_file(tmp_path)

    result = run_cli(server, "plan", "demo", "-f", path, "--detailed-exitcode", tmp_path=tmp_path)

    assert result.code == 1
    assert "agent:support" in result.err and "timeout" in result.err
    assert f"strands-deploy apply -f {path}" in result.err
    assert server.called("POST", f"{STAGE}/plan") == []
    assert server.called("POST", "/api/files/apply") == []


def test_apply_applies_the_file_then_plans(server: FakeServer, tmp_path: Path) -> None:
    server.on("POST", "/api/files/preview", reply(200, DIFFERENT))
    server.on("POST", "/api/files/apply", reply(200, DIFFERENT))
    planning(server, {"UPDATE": 1})

    result = run_cli(server, "plan", "demo", "-f", project_file(tmp_path), "--apply", "--yes",
                     "--detailed-exitcode", tmp_path=tmp_path)  # fmt: skip

    assert result.code == 2, result.err
    paths = [r.url.path for r in server.requests if r.method == "POST"]
    assert paths == ["/api/files/preview", "/api/files/apply", f"{STAGE}/plan"]


def test_a_file_of_another_project_is_refused(server: FakeServer, tmp_path: Path) -> None:
    server.on("POST", "/api/files/preview", reply(200, {**SAME, "project": "other"}))

    result = run_cli(server, "plan", "demo", "-f", project_file(tmp_path), tmp_path=tmp_path)

    assert result.code == 1
    assert "describes project 'other', not 'demo'" in result.err


def test_a_usage_error_exits_3_not_argparses_2(server: FakeServer, tmp_path: Path) -> None:
    result = run_cli(server, "plan", "--detailed-exitcode", tmp_path=tmp_path)

    assert result.code == 3
    assert "project" in result.err


def test_help_documents_the_exit_codes(server: FakeServer, tmp_path: Path, capsys: Any) -> None:
    result = run_cli(server, "plan", "--help", tmp_path=tmp_path)

    assert result.code == 0
    help_text = capsys.readouterr().out
    assert "2    plan --detailed-exitcode: the plan has changes" in help_text
    assert "130  interrupted" in help_text


def test_the_plans_own_page_lists_each_change_and_problem(
    server: FakeServer, tmp_path: Path
) -> None:
    planning(server, {})
    plan = {
        "summary": {"CREATE": 1, "REPLACE": 1, "NO_CHANGE": 2},
        "changes": [
            {"action": "CREATE", "logical_id": "JobsQueue", "reason": "", "changes": []},
            {"action": "REPLACE", "logical_id": "SupportFn", "reason": "runtime changed",
             "changes": [{"name": "Runtime", "old": "python3.11", "new": "python3.12",
                          "replacement_reason": "runtime"}]},
            {"action": "NO_CHANGE", "logical_id": "FilesBucket", "changes": []},
        ],
        "problems": [{"node": "queue:jobs", "field": "visibility", "message": "too short"}],
        "advice": [],
    }  # fmt: skip
    server.on("GET", "/api/runs/9/plan", reply(200, {"id": 9, "plan": plan}))

    result = run_cli(server, "plan", "demo", "--detailed-exitcode", tmp_path=tmp_path)

    assert result.code == 1  # a problem blocks the deploy
    assert "CREATE    JobsQueue" in result.out
    assert "REPLACE   SupportFn  (runtime changed)" in result.out
    assert "Runtime: python3.11 -> python3.12  forces replacement" in result.out
    assert "FilesBucket" not in result.out
    assert "blocking: queue:jobs visibility: too short" in result.out
    assert "plan: 1 create, 1 replace" in result.out
