"""A local run of an uploaded handler is confined: it sees none of the server's secrets,
cannot read what only the server may read, and is stopped by its limits with a clear reason."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioning.aws import AwsContext
from provisioning.strands import isolation, try_agent

SERVER_SECRETS = {
    "STRANDS_SECRETS_KEY": "fake-unseal-key-0f3c9a",
    "DATABASE_URL": "postgresql://app:db-password-77b1@db/strands",
    "REDIS_URL": "redis://:redis-password-5e2d@cache:6379/0",
    "SECRET_KEY": "django-secret-key-a41f",
}
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the server runs as root (containers)")

PROBE = """
import json, os

def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"refused: {type(exc).__name__}"

def handler(event, context):
    return {"response": json.dumps({
        "uid": os.getuid(),
        "environ": dict(os.environ),
        "parent_environ": _read(f"/proc/{os.getppid()}/environ"),
        "server_environ": _read(f"/proc/{os.environ['SERVER_PID']}/environ"),
        "server_file": _read(os.environ["SERVER_FILE"]),
    })}
"""


def _function(handler_source: str, **environment: str) -> dict[str, Any]:
    return {
        "name": "acme-dev-probe",
        "handler": "handler.handler",
        "code": {"kind": "inline", "files": {"handler.py": handler_source}},
        "environment": environment,
    }


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, Path]]:
    """A process holding the server's secrets in its environment, and a file only the
    server's user may read; this test's own environment holds the secrets too."""
    for name, value in SERVER_SECRETS.items():
        monkeypatch.setenv(name, value)
    folder = Path(tempfile.mkdtemp(prefix="server-"))
    folder.chmod(0o755)
    private = folder / "settings.env"
    private.write_text("\n".join(SERVER_SECRETS.values()))
    private.chmod(0o600)
    holder = subprocess.Popen(["sleep", "600"], env={**os.environ})
    try:
        yield holder.pid, private
    finally:
        holder.kill()
        holder.wait()
        private.unlink()
        folder.rmdir()


def _probe(aws: AwsContext, server: tuple[int, Path]) -> dict[str, Any]:
    pid, private = server
    function = _function(PROBE, SERVER_PID=str(pid), SERVER_FILE=str(private), GREETING="hi")
    answer = try_agent.run_locally(aws, function, {"prompt": "probe"}, allow_local=True)
    assert answer.ok, answer.text
    for secret in SERVER_SECRETS.values():
        assert secret not in answer.text
    found: dict[str, Any] = json.loads(answer.text)
    return found


def test_a_handler_sees_only_its_declared_variables_never_the_server_s(
    aws: AwsContext, server: tuple[int, Path]
) -> None:
    # Given a server whose environment holds the secrets key and the database password
    # When an uploaded handler run in the sandbox chat reports its environment
    found = _probe(aws, server)

    # Then it has its own variables and the stand-ins, and none of the server's
    environ = found["environ"]
    assert environ["GREETING"] == "hi"
    assert environ["AWS_ACCESS_KEY_ID"] == "sandbox"
    assert not set(SERVER_SECRETS) & set(environ)
    assert "AWS_SESSION_TOKEN" not in environ  # the server's own credentials stay behind
    assert environ["HOME"].startswith(tempfile.gettempdir())


@as_root
def test_a_root_server_s_handler_cannot_read_its_process_or_its_files(
    aws: AwsContext, server: tuple[int, Path]
) -> None:
    pid, private = server
    # Given a root server process and file that the server itself can read
    assert SERVER_SECRETS["STRANDS_SECRETS_KEY"] in Path(f"/proc/{pid}/environ").read_text()
    assert SERVER_SECRETS["SECRET_KEY"] in private.read_text()

    # When the uploaded handler tries to read them, and the process that started it
    found = _probe(aws, server)

    # Then it runs as an unprivileged user and every read is refused
    assert found["uid"] != 0
    assert found["server_environ"].startswith("refused")
    assert found["parent_environ"].startswith("refused")
    assert found["server_file"].startswith("refused")


def test_a_handler_that_allocates_too_much_memory_is_stopped_with_the_reason(
    aws: AwsContext,
) -> None:
    greedy = "def handler(event, context):\n    return len(bytearray(1024 ** 3))\n"
    limits = isolation.Limits(timeout_s=60, memory_mb=256)

    answer = try_agent.run_locally(
        aws, _function(greedy), {"prompt": "x"}, limits=limits, allow_local=True
    )

    assert not answer.ok
    assert answer.text == "the handler ran out of memory (limit 256 MB)"


def test_a_handler_that_spins_forever_is_stopped_by_its_cpu_limit(aws: AwsContext) -> None:
    spinner = "def handler(event, context):\n    while True:\n        pass\n"
    limits = isolation.Limits(timeout_s=120, cpu_s=1)

    answer = try_agent.run_locally(
        aws, _function(spinner), {"prompt": "x"}, limits=limits, allow_local=True
    )

    assert not answer.ok
    assert answer.text == "the handler used more than 1 s of CPU: stopped"


def test_a_handler_that_waits_forever_is_killed_with_its_children_at_the_timeout() -> None:
    # Given code that starts a grandchild, says its pid and then waits forever
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '600'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(600)\n"
    )

    # When it runs with a 2-second timeout
    with isolation.box() as place:
        started = time.monotonic()
        outcome = isolation.run(
            [sys.executable, "-I", "-c", code], place=place, env={}, stdin="",
            limits=isolation.Limits(timeout_s=2),
        )  # fmt: skip

    # Then it is stopped in time with the reason, and its whole process group is gone
    assert outcome.problem == "no answer within 2 s: stopped"
    assert time.monotonic() - started < 30
    assert not _alive(int(outcome.stdout.split()[0]))


def test_a_file_past_the_size_limit_is_refused() -> None:
    code = (
        "import os\nopen(os.path.join(os.environ['HOME'], 'big'), 'wb').write(b'x' * 4_000_000)\n"
    )

    with isolation.box() as place:
        outcome = isolation.run(
            [sys.executable, "-I", "-c", code], place=place, env={}, stdin="",
            limits=isolation.Limits(file_mb=1),
        )  # fmt: skip
        written = (place.home / "big").stat().st_size

    assert outcome.returncode != 0
    assert "File too large" in outcome.stderr
    assert written <= 1024 * 1024


def test_the_code_is_read_only_and_home_is_writable() -> None:
    code = (
        "import os\n"
        "open(os.path.join(os.environ['HOME'], 'note'), 'w').write('ok')\n"
        "try:\n    open('handler.py', 'w')\nexcept OSError as exc:\n    print(type(exc).__name__)\n"
    )

    with isolation.box() as place:
        (place.task / "handler.py").write_text("")
        place.seal()
        outcome = isolation.run(
            [sys.executable, "-I", "-c", code], place=place, env={}, stdin="",
            limits=isolation.Limits(),
        )  # fmt: skip

    assert outcome.returncode == 0, outcome.stderr
    if os.geteuid() == 0:
        assert outcome.stdout.strip() == "PermissionError"


def test_with_local_runs_switched_off_nothing_runs_and_the_answer_says_why(
    aws: AwsContext,
) -> None:
    unbuildable = {"name": "acme-dev-probe", "code": {"kind": "missing"}}

    answer = try_agent.run_locally(aws, unbuildable, {"prompt": "x"}, allow_local=False)

    assert not answer.ok
    assert answer.text == try_agent.LOCAL_RUNS_OFF


def _alive(pid: int) -> bool:
    """True while `pid` runs; a zombie waiting for its reaper counts as gone."""
    deadline = time.monotonic() + 10  # SIGKILL lands at once; allow for a loaded machine
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state in {"Z", "X"}:
            return False
        time.sleep(0.05)
    return True


@as_root
def test_each_run_gets_a_user_id_of_its_own_that_no_account_uses(aws: AwsContext) -> None:
    whoami = "import os\ndef handler(event, context):\n    return str(os.getuid())\n"

    uid = int(try_agent.run_locally(aws, _function(whoami), {}, allow_local=True).text)

    assert uid in isolation.RUN_IDS
    with pytest.raises(KeyError):
        pwd.getpwuid(uid)


@as_root
def test_nothing_a_run_started_outlives_it_even_in_a_session_of_its_own() -> None:
    # Given code that leaves a daemon behind in a new session and returns at once
    code = (
        "import subprocess\n"
        "daemon = subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        "print(daemon.pid)\n"
    )

    # When the run ends
    with isolation.box() as place:
        outcome = isolation.run(
            [sys.executable, "-I", "-c", code], place=place, env={}, stdin="",
            limits=isolation.Limits(),
        )  # fmt: skip

    # Then the daemon is gone too
    assert outcome.returncode == 0, outcome.stderr
    assert not _alive(int(outcome.stdout.split()[0]))


@as_root
def test_a_run_cannot_read_the_code_of_another_run_going_on_at_the_same_time() -> None:
    # Given another project's package unpacked for its own run
    with isolation.box() as other, isolation.box() as place:
        (other.task / "handler.py").write_text("API_TOKEN = 'other-project-token'\n")
        other.seal()
        code = f"print(open({str(other.task / 'handler.py')!r}).read())"

        # When this run's code tries to read it
        outcome = isolation.run(
            [sys.executable, "-I", "-c", code], place=place, env={}, stdin="",
            limits=isolation.Limits(),
        )  # fmt: skip

    # Then it is refused
    assert "other-project-token" not in outcome.stdout
    assert "PermissionError" in outcome.stderr


@as_root
def test_a_root_server_with_no_free_user_id_refuses_rather_than_run_as_root(
    aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(isolation, "RUN_IDS", range(0, 1))  # root's: always taken
    whoami = "import os\ndef handler(event, context):\n    return str(os.getuid())\n"

    answer = try_agent.run_locally(aws, _function(whoami), {"prompt": "x"}, allow_local=True)

    assert not answer.ok
    assert answer.text.startswith("finding a free user id for a confined run")


@as_root
def test_the_server_s_data_directories_are_hidden_even_where_their_modes_are_open(
    aws: AwsContext,
) -> None:
    # Given the server's data directory (a SQLite database, uploads) readable by everyone
    data, public = Path(tempfile.mkdtemp(prefix="var-")), Path(tempfile.mkdtemp(prefix="pub-"))
    for folder in (data, public):
        folder.chmod(0o755)
        (folder / "db.sqlite3").write_text("sessions")
        (folder / "db.sqlite3").chmod(0o644)
    reader = (
        "def handler(event, context):\n"
        "    out = {}\n"
        "    for path in event['paths']:\n"
        "        try:\n"
        "            out[path] = open(path).read()\n"
        "        except OSError as exc:\n"
        "            out[path] = type(exc).__name__\n"
        "    return out\n"
    )
    paths = [str(data / "db.sqlite3"), str(public / "db.sqlite3")]

    # When an uploaded handler reads it, with the data directory named as hidden
    try:
        answer = try_agent.run_locally(
            aws, _function(reader), {"paths": paths}, allow_local=True, hide=[str(data)]
        )
    finally:
        for folder in (data, public):
            (folder / "db.sqlite3").unlink()
            folder.rmdir()

    # Then the hidden directory shows nothing, while an ordinary one stays readable
    assert answer.ok, answer.text
    assert json.loads(answer.text) == {paths[0]: "FileNotFoundError", paths[1]: "sessions"}
