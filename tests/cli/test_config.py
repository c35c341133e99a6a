"""Given a server and a token, when a user logs in or runs a command, then the right server and
token are used and the saved token is readable by its owner only."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

from tests.cli.fakes import TOKEN, URL, FakeServer, error, reply, run_cli


def config_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "strands-deploy" / "config.toml"


def test_login_checks_the_token_and_saves_it_for_its_owner_only(
    server: FakeServer, tmp_path: Path
) -> None:
    server.on("GET", "/api/projects", reply(200, {"projects": []}))

    result = run_cli(server, "login", "--url", URL + "/", tmp_path=tmp_path, env={}, secret=TOKEN)

    assert result.code == 0, result.err
    assert server.called("GET", "/api/projects")[0].headers["authorization"] == f"Bearer {TOKEN}"
    path = config_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert tomllib.loads(path.read_text()) == {"url": URL, "token": TOKEN}


def test_login_reads_the_token_from_stdin_and_later_commands_use_it(
    server: FakeServer, tmp_path: Path
) -> None:
    server.on("GET", "/api/projects", reply(200, {"projects": []}))
    server.on("GET", "/api/projects/demo/runs", reply(200, {"runs": []}))

    login = run_cli(server, "login", "--url", URL, "--token-stdin", tmp_path=tmp_path, env={},
                    stdin=TOKEN + "\n")  # fmt: skip
    history = run_cli(server, "history", "demo", tmp_path=tmp_path, env={})

    assert (login.code, history.code) == (0, 0)
    assert server.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"
    assert str(server.requests[-1].url).startswith(URL + "/api/")


def test_a_refused_token_is_not_saved(server: FakeServer, tmp_path: Path) -> None:
    server.on("GET", "/api/projects", error(401, "unknown, expired or revoked token"))

    result = run_cli(server, "login", "--url", URL, tmp_path=tmp_path, env={}, secret="sdp_bad")

    assert result.code == 3
    assert "refused this token" in result.err
    assert not config_file(tmp_path).exists()


def test_an_existing_config_file_is_narrowed_to_its_owner_when_rewritten(
    server: FakeServer, tmp_path: Path
) -> None:
    path = config_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text('url = "https://old.example.test"\n')
    path.chmod(0o644)
    server.on("GET", "/api/projects", reply(200, {"projects": []}))

    run_cli(server, "login", "--url", URL, tmp_path=tmp_path, env={}, secret=TOKEN)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_config_file_others_can_read_is_refused(server: FakeServer, tmp_path: Path) -> None:
    path = config_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(f'url = "{URL}"\ntoken = "{TOKEN}"\n')
    path.chmod(0o644)

    result = run_cli(server, "status", "demo", tmp_path=tmp_path, env={})

    assert result.code == 3
    assert "chmod 600" in result.err
    assert server.requests == []


def test_the_environment_overrides_the_config_file(server: FakeServer, tmp_path: Path) -> None:
    path = config_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text('url = "https://saved.example.test"\ntoken = "sdp_saved"\n')
    path.chmod(0o600)
    server.on("GET", "/api/projects/demo/runs", reply(200, {"runs": []}))

    run_cli(server, "history", "demo", tmp_path=tmp_path,
            env={"STRANDS_DEPLOY_TOKEN": "sdp_from_env"})  # fmt: skip

    request = server.requests[-1]
    assert request.url.host == "saved.example.test"
    assert request.headers["authorization"] == "Bearer sdp_from_env"


def test_no_server_configured_is_a_configuration_error(server: FakeServer, tmp_path: Path) -> None:
    result = run_cli(server, "status", "demo", tmp_path=tmp_path, env={})

    assert result.code == 3
    assert "strands-deploy login --url URL" in result.err
