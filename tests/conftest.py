"""Fixtures shared by the dashboard tests: database, people, a sandbox, a real worker.

SQLite by default (a file, so worker threads and a worker process share it);
PostgreSQL when DATABASE_URL is set. With REDIS_URL set (use a spare db index,
e.g. redis://127.0.0.1:6379/15: it is flushed) the `dramatiq_worker` fixture runs
`manage.py rundramatiq` as a separate process, as in production.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from dashboard.projects import services as project_services
from provisioning import sandbox as sandbox_server

ROOT = Path(__file__).resolve().parent.parent
SQLITE_TEST_FILE = "dashboard.sqlite3"  # the name settings.py gives it under STRANDS_VAR_DIR


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(
            tmp_path_factory.mktemp("db") / SQLITE_TEST_FILE
        )


@pytest.fixture(autouse=True)
def _quiet_runtime(settings: Any) -> None:
    """No embedded worker threads unless a test starts them; fast heartbeats."""
    settings.EMBEDDED_WORKER_THREADS = 0
    settings.DEPLOYMENT_HEARTBEAT_S = 0.5


# --- people ----------------------------------------------------------------------------------
@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password="alice-password-1")


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", password="bob-password-1")


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("sue", password="sue-password-1", is_staff=True)


@pytest.fixture
def acme(alice: Any) -> Any:
    """Project "acme" owned by alice, with its "dev" stage on the sandbox."""

    return project_services.project_create(name="acme", user=alice)


# --- the sandbox -----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[sandbox_server.Sandbox]:
    running = sandbox_server.start(port=0)
    yield running
    running.stop()


@pytest.fixture
def sandbox(
    sandbox_session: sandbox_server.Sandbox, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> str:
    """An empty sandbox on a free port; settings (and child processes) point at it."""
    sandbox_server.reset(sandbox_session.endpoint_url)
    settings.SANDBOX_ENDPOINT_URL = sandbox_session.endpoint_url
    monkeypatch.setenv("SANDBOX_ENDPOINT_URL", sandbox_session.endpoint_url)
    return sandbox_session.endpoint_url


# --- services mode ---------------------------------------------------------------------------
@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("needs REDIS_URL (services mode)")
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


def _database_env() -> dict[str, str]:
    """Point a child process at the test database this session created."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        path = Path(db["NAME"])
        assert path.name == SQLITE_TEST_FILE, path
        return {"STRANDS_VAR_DIR": str(path.parent), "DATABASE_URL": ""}
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return {"DATABASE_URL": f"postgresql://{auth}@{host}/{db['NAME']}"}


def _wait_ready(process: subprocess.Popen[bytes], log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if "is ready for action" in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"the dramatiq worker did not start:\n{log.read_text(errors='replace')}")


@pytest.fixture
def dramatiq_worker(
    transactional_db: None, sandbox: str, redis_url: str, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`manage.py rundramatiq` in its own process, on the test database and the sandbox."""
    env = {**os.environ, **_database_env(), "REDIS_URL": redis_url, "SANDBOX_ENDPOINT_URL": sandbox}
    env = {k: v for k, v in env.items() if v != ""}
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "rundramatiq", "--processes", "1", "--threads", "2",
             "--skip-checks", "--pid-file", str(tmp_path / "worker.pid")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_ready(process, log)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)  # the main process stops its forks gracefully
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
