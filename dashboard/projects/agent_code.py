"""An agent's own code instead of the generated handler: where it may come from.

A directory must lie inside settings.AGENT_CODE_ROOT: the server packages only code an
operator put there, never /etc or a home directory. An uploaded zip is re-packed the
engine's deterministic way and stored by content as <root>/uploads/<sha256>.zip, so the
same code uploaded twice is one file and the function's CodeSha256 is that file's.

Both are refused at save time rather than at deploy: a zip entry that would land outside
the package (absolute, `..`, a drive, a backslash, a symbolic link), and a requirements.txt
line that is not a plain requirement (the engine's parser, which pip's install shares).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings

from provisioning import engine

ENTRY_POINT = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
REQUIREMENTS_FILE = "requirements.txt"
"""Shipped beside the handler, it becomes the agent's dependency layer."""


class CodeError(ValueError):
    """A refusal that belongs next to one form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def root() -> Path:
    return Path(settings.AGENT_CODE_ROOT).resolve()


def uploads() -> Path:
    return root() / "uploads"


def max_zip_bytes() -> int:
    return int(settings.AGENT_CODE_MAX_ZIP_MB) * engine.MB


def check_handler(entry: str) -> str:
    entry = (entry or "").strip()
    if not ENTRY_POINT.match(entry):
        raise CodeError(
            "code_handler", "The handler entry point is module.function, e.g. app.handler."
        )
    return entry


def _module_files(entry: str) -> tuple[str, str]:
    module = entry.rsplit(".", 1)[0].replace(".", "/")
    return f"{module}.py", f"{module}/__init__.py"


def _inside_root(path: Path, field: str) -> Path:
    resolved = path.resolve()  # follows symlinks: a link out of the root is refused too
    if not resolved.is_relative_to(root()):
        raise CodeError(
            field, f"{path} is outside {root()}, the only place agent code may come from."
        )
    return resolved


def check_directory(path: str, entry: str) -> str:
    given = Path((path or "").strip())
    if not str(given) or not given.is_absolute():
        raise CodeError("code_directory", f"Give an absolute path inside {root()}.")
    resolved = _inside_root(given, "code_directory")
    if not resolved.is_dir():
        raise CodeError("code_directory", f"{given} is not a directory on this server.")
    if not any((resolved / name).is_file() for name in _module_files(entry)):
        raise CodeError("code_handler", f"{given} has no {_module_files(entry)[0]} for {entry}.")
    requirements = resolved / REQUIREMENTS_FILE
    if requirements.is_file():
        _check_requirements("code_directory", requirements.read_bytes())
    return str(resolved)


def canonical_zip(data: bytes, entry: str) -> bytes:
    """The upload re-packed as the engine packs it, once checked to hold the handler module."""
    if len(data) > max_zip_bytes():
        raise CodeError("code_zip", f"The zip is over {settings.AGENT_CODE_MAX_ZIP_MB} MB.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = engine.zip_members(zf, "The zip")
            if sum(i.file_size for i in infos) > engine.UNZIPPED_LIMIT:
                raise CodeError("code_zip", "The zip unpacks to more than Lambda's 250 MB.")
            files = {i.filename: zf.read(i) for i in infos}
    except (zipfile.BadZipFile, EOFError):
        raise CodeError("code_zip", "That file is not a valid .zip.") from None
    except engine.PackagingError as exc:
        raise CodeError("code_zip", f"{exc}.") from None
    if not any(name in files for name in _module_files(entry)):
        raise CodeError("code_handler", f"The zip has no {_module_files(entry)[0]} for {entry}.")
    if REQUIREMENTS_FILE in files:
        _check_requirements("code_zip", files[REQUIREMENTS_FILE])
    return engine.zip_files(files)


def _check_requirements(field: str, text: bytes) -> None:
    """The code's requirements.txt is the layer's: refused at upload, not at deploy."""
    try:
        engine.requirements_file(text, REQUIREMENTS_FILE)
    except engine.RequirementRefused as exc:
        raise CodeError(field, f"{exc}.") from None


def upload_path(data: bytes) -> tuple[Path, str]:
    digest = hashlib.sha256(data).hexdigest()
    return uploads() / f"{digest}.zip", digest


def store_zip(data: bytes) -> dict[str, str]:
    """Writes the (canonical) zip once, atomically; returns its place in the code recipe."""
    path, digest = upload_path(data)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(path)
    return {"kind": "zip", "path": str(path), "sha256": digest}


def check_stored_zip(code: Mapping[str, Any], entry: str) -> dict[str, str]:
    """An earlier upload kept on edit: still in place, unchanged, and holding the handler."""
    path = _inside_root(Path(str(code.get("path") or "")), "code_zip")
    try:
        data = path.read_bytes()
    except OSError:
        raise CodeError(
            "code_zip", "The uploaded zip is gone from the server: upload it again."
        ) from None
    if code.get("sha256") and hashlib.sha256(data).hexdigest() != code["sha256"]:
        raise CodeError("code_zip", "The uploaded zip changed on the server: upload it again.")
    canonical_zip(data, entry)
    return {"kind": "zip", "path": str(path), "sha256": hashlib.sha256(data).hexdigest()}


def clean_code(code: Mapping[str, Any]) -> dict[str, str]:
    """The service's check of a `code` value from any caller (form, CLI, API)."""
    if not code:
        return {}
    if not isinstance(code, Mapping):
        raise CodeError("code", 'code must be a JSON object: {"kind", "path", "handler"}')
    entry = check_handler(str(code.get("handler") or ""))
    kind = code.get("kind")
    if kind == "directory":
        return {
            "kind": "directory",
            "path": check_directory(str(code.get("path") or ""), entry),
            "handler": entry,
        }
    if kind == "zip":
        return {**check_stored_zip(code, entry), "handler": entry}
    raise CodeError("code_source", "Custom code is a directory or an uploaded .zip.")
