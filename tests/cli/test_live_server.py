"""The CLI against a real server: daphne on a free port, the REST API, the sandbox. Given a
project file and a token, when a user applies, deploys, asks the status and destroys with
`strands-deploy`, then each step works end to end and the stage ends empty.

Skipped where the server has no REST API (dashboard.api) to drive."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from strands_cli.context import Context
from strands_cli.main import run
from tests.e2e.conftest import e2e_user, server_url  # noqa: F401  (a committed user, the live daphne)

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("dashboard.api") is None, reason="the server has no REST API"
    ),
    pytest.mark.timeout(240),
]

PROJECT_FILE = """\
version: 1
project:
  name: clidemo
  description: Driven by the strands-deploy CLI.
stages:
- name: dev
components:
- kind: bucket
  name: files
- kind: topic
  name: alerts
"""


@pytest.fixture
def token(e2e_user: Any) -> str:  # noqa: F811
    from dashboard.access import tokens

    return tokens.token_create_personal(user=e2e_user, name="cli", expires_in_days=1).secret


def cli(url: str, token: str, tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(
        out=Console(file=out, width=200, markup=False),
        err=Console(file=err, width=200, markup=False, soft_wrap=True),
        env={"STRANDS_DEPLOY_URL": url, "STRANDS_DEPLOY_TOKEN": token},
        config_path=tmp_path / "config.toml",
        stdin=io.StringIO(""),
    )
    code = run(list(argv), ctx)
    return code, out.getvalue(), err.getvalue()


def test_apply_deploy_status_destroy(server_url: str, token: str, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "strands-deploy.yaml"
    path.write_text(PROJECT_FILE)

    code, out, err = cli(server_url, token, tmp_path, "apply", "-f", str(path), "--yes")
    assert code == 0, err
    assert "bucket:files" in out

    code, out, err = cli(server_url, token, tmp_path, "plan", "clidemo", "-f", str(path),
                         "--detailed-exitcode")  # fmt: skip
    assert code == 2, err
    assert "create" in out

    code, out, err = cli(server_url, token, tmp_path, "deploy", "clidemo", "--wait")
    assert code == 0, err
    assert "deploy #" in out and "SUCCEEDED" in out
    assert "succeeded" in err  # each resource's progress, one line per event

    code, out, err = cli(server_url, token, tmp_path, "status", "clidemo")
    assert code == 0, err
    assert "deploy #" in out
    assert "resources: 0" not in out

    code, out, err = cli(server_url, token, tmp_path, "history", "clidemo")
    assert code == 0, err
    assert "deploy" in out and "plan" in out

    code, out, err = cli(server_url, token, tmp_path, "destroy", "clidemo", "--stage", "dev",
                         "--wait", "--yes")  # fmt: skip
    assert code == 0, err
    assert "destroy #" in out and "SUCCEEDED" in out

    code, out, err = cli(server_url, token, tmp_path, "status", "clidemo")
    assert "resources: 0" in out
