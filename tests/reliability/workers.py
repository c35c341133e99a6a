"""Real `manage.py rundramatiq` processes the scenarios start, crash and replace.

Each worker runs in its own session so the test can end it and its forked child by
the group id it started; a crash comes from inside (dashboard/runs/reliability.py's crash
point: SIGKILL at the K-th AWS write of a run), read from a file at each run start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.conftest import ROOT, _database_env, _wait_ready


class Worker:
    def __init__(self, tmp: Path, env: dict[str, str], n: int) -> None:
        self.log = tmp / f"worker-{n}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "rundramatiq", "--processes", "1",
                 "--threads", "2", "--skip-checks", "--pid-file", str(tmp / f"worker-{n}.pid")],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        _wait_ready(self.process, self.log)

    def crashed(self) -> bool:
        return "exited unexpectedly" in self.log.read_text(errors="replace")

    def wait_crash(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.crashed() or self.process.poll() is not None:
                return
            time.sleep(0.1)
        raise AssertionError(f"the worker did not crash:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        with suppress(ProcessLookupError):  # what is left of the group this test started
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


class SchedulerProcess:
    """`manage.py scheduler`: sends the periodic jobs (the run sweep) to the workers."""

    def __init__(self, tmp: Path, env: dict[str, str], tick_s: float) -> None:
        self.log = tmp / "scheduler.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "scheduler", "--tick", str(tick_s), "--skip-checks"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Workers:
    """Start workers one after another (never two at once: they share the queue)."""

    def __init__(self, tmp: Path, redis_url: str, endpoint: str) -> None:
        self.tmp = tmp
        self.crash_file = tmp / "crash-at"
        self.crash_file.write_text("")
        self.env = {
            **os.environ,
            **_database_env(),
            "REDIS_URL": redis_url,
            "SANDBOX_ENDPOINT_URL": endpoint,
            "DEPLOYMENT_HEARTBEAT_S": "0.5",
            "STRANDS_CRASH_AT_WRITE": f"@{self.crash_file}",
        }
        self.env = {k: v for k, v in self.env.items() if v != ""}
        self.current: Worker | None = None
        self.started = 0

    def crash_at(self, spec: str) -> None:
        """The next run crashes its worker at this write ("7", "7:before"); "" for none."""
        self.crash_file.write_text(spec)

    def ensure(self) -> Worker:
        alive = self.current is not None and self.current.process.poll() is None
        if alive and self.current is not None and not self.current.crashed():
            return self.current
        if self.current is not None:
            self.current.stop()
        self.started += 1
        self.current = Worker(self.tmp, self.env, self.started)
        return self.current

    def stop(self) -> None:
        if self.current is not None:
            self.current.stop()
            self.current = None


@contextmanager
def workers(tmp: Path, redis_url: str, endpoint: str) -> Iterator[Workers]:
    pool = Workers(tmp, redis_url, endpoint)
    try:
        yield pool
    finally:
        pool.stop()
