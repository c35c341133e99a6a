"""Run untrusted Python (an uploaded agent's handler) in a confined child process.

What the child gets, and why:
- an environment built from nothing (the caller's variables, a minimal PATH, HOME and
  TMPDIR in a throwaway directory): the server's own (STRANDS_SECRETS_KEY, DATABASE_URL,
  SECRET_KEY, ...) are never copied;
- a throwaway directory: the code read-only in `task/`, a writable `home/`, Lambda-like;
- limits on CPU seconds, address space, file size and open files, and a wall-clock
  timeout after which its whole process group is killed (and, with a user id of its own,
  every process of that id: nothing it started outlives the run); stdout and stderr go to files,
  so a flood of output meets the file-size limit rather than the server's memory;
- only descriptors 0-2 (stdin a pipe), no way to gain privileges through setuid binaries;
- when the server runs as root (containers): a user id of its own, unprivileged and used by
  no account nor by any other run, so it cannot read the server's files, its
  /proc/<server>/environ, nor another project's run going on at the same time. Where the interpreter lives in
  a directory that user cannot enter, it is revealed in a private mount namespace
  (isolation_child.py), where the server's own directories (`hide`) are covered too.

What it does not give: the child shares the host's network (it must reach the sandbox on
the host's loopback), and a server that does not run as root runs the child as its own
user, who may read /proc/<server>/environ; there the defence is switching local runs off.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import secrets
import signal
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from provisioning.strands import isolation_child

# systemd's range for dynamic service users: free of login accounts, and inside the 65,536
# ids that a rootless or user-namespaced container maps.
RUN_IDS = range(61184, 65520)
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"
_CHILD = Path(isolation_child.__file__).resolve()


class IsolationError(Exception):
    """The child cannot be confined as promised, so it is not started."""


@dataclass(frozen=True)
class RunUser:
    uid: int
    gid: int


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 60
    cpu_s: int = 60
    memory_mb: int = 2048
    file_mb: int = 64
    open_files: int = 256
    processes: int = 256
    """Counted per user id, so applied only when the child runs as an id of its own."""


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    problem: str
    """Why the child was stopped or could not start ("" when it ran to its own end)."""


@dataclass(frozen=True)
class Box:
    """A throwaway directory: the code goes in `task`, layers beside it; `home` is writable."""

    root: Path
    user: RunUser | None
    """Who the child runs as; None when the server is not root (then the server's user)."""

    @property
    def task(self) -> Path:
        return self.root / "task"

    @property
    def home(self) -> Path:
        return self.root / "home"

    def seal(self) -> None:
        """Everything unpacked so far (the code, layers): readable by the run user, writable
        by nobody but the server, whatever the server's umask."""
        for path in self.root.rglob("*"):
            if path == self.home or self.home in path.parents or path.is_symlink():
                continue
            mode = path.stat().st_mode & 0o755
            path.chmod((mode | 0o555) if path.is_dir() else (mode | 0o444))


@contextmanager
def box() -> Iterator[Box]:
    user = run_user()
    with tempfile.TemporaryDirectory(prefix="agent-") as tmp:
        made = Box(Path(tmp), user)
        made.task.mkdir()
        made.home.mkdir(mode=0o700)
        if user is not None:
            os.chown(made.root, 0, user.gid)
            made.root.chmod(0o710)  # this run's group may pass; no other run, no listing
            os.chown(made.home, user.uid, user.gid)
        yield made


def run(
    argv: list[str],
    *,
    place: Box,
    env: Mapping[str, str],
    stdin: str,
    limits: Limits,
    hide: Sequence[str] = (),
) -> Outcome:
    """Run `argv` (argv[0] a Python interpreter's path) inside `place` with only `env`;
    `hide` names the server's directories (its data) that a child of a root server must not
    see even where their modes would let it."""
    plan = place.root / "plan.json"
    with open(os.open(plan, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        f.write(_plan_json(argv, place, env, limits, hide))
    with open(place.root / "out", "w+b") as out, open(place.root / "err", "w+b") as err:
        child = subprocess.Popen(
            [sys.executable, "-I", "-S", str(_CHILD), str(plan)],
            stdin=subprocess.PIPE, stdout=out, stderr=err, cwd=place.root,
            env={"PATH": BASE_PATH}, close_fds=True, process_group=0,
        )  # fmt: skip
        problem = ""
        try:
            child.communicate(stdin.encode(), timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(child.pid)
            child.wait()
            problem = f"no answer within {limits.timeout_s:g} s: stopped"
        returncode = child.returncode
        if place.user is not None:
            _kill_all_of(place.user)
        stdout, stderr = _read(out), _read(err)
    problem = problem or _stopped_because(returncode, stderr, limits)
    return Outcome(returncode, stdout, stderr, problem)


def run_user() -> RunUser | None:
    """A fresh unprivileged user id for one run of a root server; None when not root."""
    if os.geteuid() != 0:
        return None
    for _ in range(32):
        uid = secrets.choice(RUN_IDS)
        if not _known_id(uid):
            return RunUser(uid, uid)
    raise IsolationError(
        f"finding a free user id for a confined run: ids {RUN_IDS.start}-{RUN_IDS.stop - 1} "
        "all belong to accounts or groups"
    )


def _known_id(number: int) -> bool:
    try:
        pwd.getpwuid(number)
    except KeyError:
        try:
            grp.getgrgid(number)
        except KeyError:
            return False
    return True


def interpreter_paths() -> list[str]:
    """What a child interpreter (this one, its virtualenv) must be able to read."""
    found = {
        sys.prefix,
        sys.base_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
        *(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")),
    }
    return sorted(os.path.realpath(p) for p in found if p)


def _plan_json(
    argv: list[str],
    place: Box,
    env: Mapping[str, str],
    limits: Limits,
    hide: Sequence[str],
) -> str:
    mb = 1024 * 1024
    rlimits = {  # (soft, hard): the CPU soft limit sends SIGXCPU, which we can name
        "RLIMIT_CPU": (limits.cpu_s, limits.cpu_s + 1),
        "RLIMIT_AS": (limits.memory_mb * mb,) * 2,
        "RLIMIT_FSIZE": (limits.file_mb * mb,) * 2,
        "RLIMIT_NOFILE": (limits.open_files,) * 2,
        "RLIMIT_CORE": (0, 0),
    }
    if place.user is not None:
        rlimits["RLIMIT_NPROC"] = (limits.processes,) * 2
    home = str(place.home)
    return json.dumps(
        {
            "argv": argv,
            "env": {
                **{"PATH": BASE_PATH, "LANG": "C.UTF-8", "USER": "agent", "LOGNAME": "agent"},
                **env,
                **{"HOME": home, "TMPDIR": home},
            },
            "cwd": str(place.task),
            "workdir": str(place.root),
            "limits": rlimits,
            "needs": interpreter_paths(),
            "hide": [os.path.realpath(h) for h in hide],
            "user": None if place.user is None else {"uid": place.user.uid, "gid": place.user.gid},
        }
    )


def _kill_all_of(user: RunUser) -> None:
    """What the run left behind, even in a session of its own: kill(-1) from its user id
    reaches every process of that id and nothing else."""
    subprocess.run(
        ["kill", "-KILL", "-1"], user=user.uid, group=user.gid, extra_groups=[],
        env={"PATH": BASE_PATH}, close_fds=True, check=False,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _kill_group(pgid: int) -> None:
    with suppress(ProcessLookupError):  # already gone
        os.killpg(pgid, signal.SIGKILL)


def _stopped_because(returncode: int, stderr: str, limits: Limits) -> str:
    if returncode == -signal.SIGXCPU:
        return f"used more than {limits.cpu_s} s of CPU: stopped"
    if returncode == isolation_child.CANNOT_REVEAL:
        return "could not be run isolated: " + stderr.strip().removeprefix("isolation: ")
    return ""


def _read(file: BinaryIO) -> str:
    file.seek(0)
    return file.read().decode("utf-8", "replace")
