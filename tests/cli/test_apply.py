"""Given a project file, when a user applies it, then they see what would change, are asked
first, and a file with mistakes is reported line by line without changing anything."""

from __future__ import annotations

from pathlib import Path

from tests.cli.fakes import FakeServer, error, reply, run_cli

PREVIEW = "/api/files/preview"
APPLY = "/api/files/apply"
TEXT = "project: demo\nagents:\n  support:\n    memory: 1024\n"
CHANGED = {
    "project": "demo",
    "exists": True,
    "unchanged": False,
    "changes": [
        {"action": "change", "key": "agent:support", "fields": [["memory", 512, 1024]]},
        {"action": "add", "key": "queue:jobs", "fields": []},
    ],
    "kept": ["bucket:files"],
    "notes": ["the stage dev keeps its settings"],
}


def project_file(tmp_path: Path) -> Path:
    path = tmp_path / "strands-deploy.yaml"
    path.write_text(TEXT)
    return path


def test_apply_shows_the_changes_and_applies_with_yes(server: FakeServer, tmp_path: Path) -> None:
    server.on("POST", PREVIEW, reply(200, CHANGED)).on("POST", APPLY, reply(200, CHANGED))

    result = run_cli(server, "apply", "-f", str(project_file(tmp_path)), "--yes", tmp_path=tmp_path)

    assert result.code == 0, result.err
    assert server.body("POST", PREVIEW) == {"text": TEXT, "prune": False}
    assert server.body("POST", APPLY) == {"text": TEXT, "prune": False}
    table_row = next(line for line in result.out.splitlines() if "agent:support" in line)
    assert "memory" in table_row and "512" in table_row and "1024" in table_row
    assert "queue:jobs" in result.out
    assert "--prune removes them): bucket:files" in result.out
    assert "note: the stage dev keeps its settings" in result.out
    assert "1 added, 1 changed, 0 removed" in result.out


def test_apply_asks_first_and_a_yes_applies(server: FakeServer, tmp_path: Path) -> None:
    server.on("POST", PREVIEW, reply(200, CHANGED)).on("POST", APPLY, reply(200, CHANGED))

    result = run_cli(server, "apply", "-f", str(project_file(tmp_path)), "--prune",
                     tmp_path=tmp_path, stdin="y\n")  # fmt: skip

    assert result.code == 0, result.err
    assert "Apply" in result.err and "[y/N]" in result.err
    assert server.body("POST", APPLY)["prune"] is True


def test_apply_without_an_answer_changes_nothing(server: FakeServer, tmp_path: Path) -> None:
    server.on("POST", PREVIEW, reply(200, CHANGED))

    result = run_cli(server, "apply", "-f", str(project_file(tmp_path)), tmp_path=tmp_path)

    assert result.code == 1
    assert "pass --yes" in result.err
    assert server.called("POST", APPLY) == []


def test_a_dry_run_shows_the_changes_and_applies_nothing(
    server: FakeServer, tmp_path: Path
) -> None:
    server.on("POST", PREVIEW, reply(200, CHANGED))

    result = run_cli(server, "apply", "-f", str(project_file(tmp_path)), "--dry-run", "--yes",
                     tmp_path=tmp_path)  # fmt: skip

    assert result.code == 0, result.err
    assert "agent:support" in result.out
    assert server.called("POST", APPLY) == []


def test_changed_fields_given_as_objects_are_shown_alike(
    server: FakeServer, tmp_path: Path
) -> None:
    change = {"action": "change", "key": "agent:support",
              "fields": [{"path": "timeout", "old": 30, "new": 60}]}  # fmt: skip
    server.on("POST", PREVIEW, reply(200, {**CHANGED, "changes": [change]}))

    result = run_cli(server, "apply", "-f", str(project_file(tmp_path)), "--dry-run",
                     tmp_path=tmp_path)  # fmt: skip

    row = next(line for line in result.out.splitlines() if "agent:support" in line)
    assert "timeout" in row and "30" in row and "60" in row


def test_a_file_that_already_matches_is_not_applied(server: FakeServer, tmp_path: Path) -> None:
    same = {**CHANGED, "unchanged": True, "changes": [], "kept": [], "notes": []}
    server.on("POST", PREVIEW, reply(200, same))

    result = run_cli(server, "apply", "-f", str(project_file(tmp_path)), tmp_path=tmp_path)

    assert result.code == 0
    assert "already matches" in result.out
    assert server.called("POST", APPLY) == []


def test_problems_are_listed_as_file_line_column(server: FakeServer, tmp_path: Path) -> None:
    problems = [
        {
            "line": 4,
            "column": 13,
            "path": "agents.support.memory",
            "message": "must be at most 10240",
        },
        {"line": 1, "column": 1, "path": "", "message": "unknown key 'stagez'"},
    ]
    server.on("POST", PREVIEW, error(400, "the file has problems", problems=problems))
    path = project_file(tmp_path)

    result = run_cli(server, "apply", "-f", str(path), "--yes", tmp_path=tmp_path)

    assert result.code == 1
    lines = result.err.splitlines()
    assert f"{path}:4:13: agents.support.memory: must be at most 10240" in lines
    assert f"{path}:1:1: unknown key 'stagez'" in lines
    assert "2 problems; nothing changed" in result.err
    assert server.called("POST", APPLY) == []


def test_a_missing_file_is_a_usage_error(server: FakeServer, tmp_path: Path) -> None:
    result = run_cli(server, "apply", "-f", str(tmp_path / "nope.yaml"), tmp_path=tmp_path)

    assert result.code == 3
    assert "nope.yaml: no such file" in result.err
    assert server.requests == []


def test_a_busy_project_is_reported(server: FakeServer, tmp_path: Path) -> None:
    server.on("POST", PREVIEW, reply(200, CHANGED))
    server.on("POST", APPLY, error(409, "the project changed since the preview: preview again"))

    result = run_cli(server, "apply", "-f", str(project_file(tmp_path)), "--yes", tmp_path=tmp_path)

    assert result.code == 1
    assert "preview again" in result.err
