"""The first moments of an isolated run: trusted code that confines itself, then runs the command.

Started by `isolation.run` as `python -I -S isolation_child.py <plan.json>`, with an
environment holding nothing but PATH, so that nothing uploaded code controls (the
function's variables, LD_PRELOAD, PYTHONPATH) is seen while this still holds the server's
privileges. Only the standard library is used: `-S` leaves site-packages out.

In order: read the plan; when switching user, let that user reach the interpreter and hide
the server's directories (see `_arrange`); set the resource limits; forbid gaining privileges (setuid binaries); drop to
the run user with no supplementary groups; close every inherited descriptor but 0-2;
exec the command with the plan's environment in the plan's working directory.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
from typing import Any

CANNOT_REVEAL = 71  # exit code: the run user cannot reach the interpreter and we cannot help it
PR_SET_NO_NEW_PRIVS = 38
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
_LIBC = ctypes.CDLL(None, use_errno=True)


def main(plan_path: str) -> None:
    with open(plan_path, encoding="utf-8") as f:
        plan: dict[str, Any] = json.load(f)
    user = plan.get("user")
    if user is not None:
        _arrange(plan["needs"], plan["hide"], plan["workdir"], user["uid"], user["gid"])
    for name, (soft, hard) in plan["limits"].items():
        resource.setrlimit(getattr(resource, name), (soft, hard))
    _libc_call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if user is not None:
        os.setgroups([])
        os.setgid(user["gid"])
        os.setuid(user["uid"])
    os.umask(0o077)
    os.chdir(plan["cwd"])
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    os.execve(plan["argv"][0], plan["argv"], plan["env"])


def _arrange(needs: list[str], hide: list[str], workdir: str, uid: int, gid: int) -> None:
    """Let the run user reach what it needs (the interpreter, its libraries) and nothing of
    the server's own directories. A directory it may not enter (a 0700 /root holding pyenv)
    and every directory to hide (the server's data) is covered, in a mount namespace of this
    process only, by an empty tmpfs into which just the needed paths are bound back
    read-only. Revealing is required; hiding is done where mount namespaces are allowed."""
    required = {a for path in needs if (a := _first_closed(path, uid, gid)) is not None}
    wanted = {h for h in hide if os.path.isdir(h) and not _inside(workdir, h)}
    covers = _outermost([*required, *wanted])
    if not covers:
        return
    try:
        os.unshare(os.CLONE_NEWNS)
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        for number, cover in enumerate(covers):
            inside = _outermost([n for n in needs if _inside(n, cover)])
            _cover(cover, inside, os.path.join(workdir, f".reveal{number}"))
    except (AttributeError, OSError) as exc:
        if not required:
            sys.stderr.write(f"isolation: the server's directories stay visible ({exc})\n")
            return
        sys.stderr.write(
            f"isolation: user {uid} cannot enter {', '.join(sorted(required))}, where the "
            f"interpreter lives, and a private mount namespace to reveal it is not allowed "
            f"here ({exc}): install Python where other users can read it, or switch local "
            "runs off\n"
        )
        sys.exit(CANNOT_REVEAL)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _cover(ancestor: str, paths: list[str], staging: str) -> None:
    stages = []
    for number, path in enumerate(paths):
        stage = f"{staging}-{number}"
        os.mkdir(stage, 0o700)
        _mount(path, stage, None, MS_BIND | MS_REC)
        stages.append(stage)
    _mount("tmpfs", ancestor, "tmpfs", 0, "mode=0755,size=1m")
    for path, stage in zip(paths, stages, strict=True):
        os.makedirs(path, 0o755, exist_ok=True)
        _mount(stage, path, None, MS_BIND | MS_REC)
        _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
        _libc_call("umount2", stage.encode(), MNT_DETACH)
        os.rmdir(stage)


def _first_closed(path: str, uid: int, gid: int) -> str | None:
    """The outermost directory on the way to `path` that the user may not pass through."""
    current = "/"
    for part in path.strip("/").split("/"):
        current = os.path.join(current, part)
        try:
            st = os.stat(current)
        except OSError:
            return None
        bit = 0o100 if st.st_uid == uid else 0o010 if st.st_gid == gid else 0o001
        if not st.st_mode & bit:
            return current
    return None


def _outermost(paths: list[str]) -> list[str]:
    """`paths` without those inside another of them."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(_inside(path, k) for k in kept):
            kept.append(path)
    return kept


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    _libc_call(
        "mount",
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )


def _libc_call(name: str, *args: Any) -> None:
    if getattr(_LIBC, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


if __name__ == "__main__":
    main(sys.argv[1])
