"""Lambda deployment packages: the agent's function zip and the size limits it and its
layers must fit (the layers themselves are built in layers.py).

Both are deterministic (fixed timestamps and permissions, sorted entries), so the same
input gives the same bytes and the same CodeSha256: an unchanged agent plans NO_CHANGE.

Code recipes (the `code` property of a lambda:function spec):
  {"kind": "inline", "files": {"handler.py": "..."}}
  {"kind": "generated", "agent": {"name", "model_id", "system_prompt", "tools",
                                  "region", "max_tokens", "temperature"}}
  {"kind": "zip", "path": "/uploads/app.zip", "sha256": "<hex of the file>"}
  {"kind": "directory", "path": "/src/agent"}
The generated kind ships templates/lambda_handler.py as `handler.py` (entry point
`handler.handler`) beside the agent's `agent_config.json`. The custom kinds ship the
team's own code (its handler entry point is the function's `handler` setting); a zip is
re-packed so its bytes, too, depend only on its content.
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import hashlib
import io
import json
import re
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioning.errors import EngineError
from provisioning.strands.requirements import requirements_file

HANDLER = "handler.handler"
HANDLER_TEMPLATE = Path(__file__).with_name("templates") / "lambda_handler.py"

MB = 1024 * 1024
DIRECT_UPLOAD_LIMIT = 50 * MB
"""Larger zips must be uploaded to S3 and referenced, not sent in the API call."""
UNZIPPED_LIMIT = 250 * MB
"""Function plus all its layers, unzipped."""

_DRIVE = re.compile(r"^[A-Za-z]:")

_EPOCH = (1980, 1, 1, 0, 0, 0)
_AGENT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "model_id": str,
    "system_prompt": str,
    "tools": list,
    "region": str,
    "max_tokens": int,
    "temperature": (int, float),
    "provider": str,
    "api_key_env": str,
    "project": str,
    "stage": str,
}
EXCLUDED = (".git", ".hg", ".svn", "__pycache__", "*.pyc", "*.pyo", ".venv", "venv",
            ".mypy_cache", ".pytest_cache", ".ruff_cache", ".DS_Store", "node_modules")  # fmt: skip
"""Never packaged from a team's code: version control, caches, virtual environments."""
_REQUIRED_AGENT_FIELDS = ("name", "model_id")


class PackagingError(EngineError):
    pass


def code_sha256(zip_bytes: bytes) -> str:
    """The digest exactly as Lambda reports it in CodeSha256 (base64, not hex)."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode("ascii")


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fixed_entry(name: str, mode: int = 0o644) -> zipfile.ZipInfo:
    """A zip entry whose bytes depend only on its name and mode (fixed time, Unix perms)."""
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.external_attr = (0o100000 | mode) << 16  # regular file, fixed permissions
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so the permissions above are honoured on any build host
    return info


def zip_files(files: Mapping[str, str | bytes] | Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(files):
            data = files[name]
            zf.writestr(fixed_entry(name), data.encode("utf-8") if isinstance(data, str) else data)
    return buf.getvalue()


def package_code(recipe: Mapping[str, Any]) -> bytes:
    """The function zip for a code recipe; the same recipe always gives the same bytes.

    A directory is read afresh each time (its files may have changed since); the other
    kinds are cached by the recipe, which pins their content."""
    if recipe.get("kind") == "directory":
        return zip_files(_directory_files(Path(_recipe_path(recipe))))
    return _package_canonical(canonical(recipe))


@functools.lru_cache(maxsize=2048)  # one small zip per agent: a 500-agent plan fits
def _package_canonical(recipe_json: str) -> bytes:
    recipe = json.loads(recipe_json)
    kind = recipe.get("kind")
    if kind == "inline":
        return zip_files(_inline_files(recipe))
    if kind == "generated":
        return zip_files(generated_files(recipe.get("agent")))
    if kind == "zip":
        return zip_files(_zip_files(recipe))
    raise PackagingError(
        f"unknown code recipe kind {kind!r}: expected 'inline', 'generated', 'zip' or 'directory'"
    )


def _recipe_path(recipe: Mapping[str, Any]) -> str:
    path = recipe.get("path")
    if not isinstance(path, str) or not path:
        raise PackagingError(f"a {recipe.get('kind')} code recipe needs a 'path'")
    return path


def excluded(relative: str) -> bool:
    return any(
        fnmatch.fnmatch(part, pattern) for part in relative.split("/") for pattern in EXCLUDED
    )


def _directory_files(root: Path) -> dict[str, bytes]:
    if not root.is_dir():
        raise PackagingError(f"custom code directory {root} does not exist")
    files = {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and not excluded(path.relative_to(root).as_posix())
    }
    if not files:
        raise PackagingError(f"custom code directory {root} holds no files to package")
    return files


def _zip_files(recipe: Mapping[str, Any]) -> dict[str, bytes]:
    path = Path(_recipe_path(recipe))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PackagingError(f"reading uploaded code {path}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if recipe.get("sha256") and recipe["sha256"] != digest:
        raise PackagingError(f"uploaded code {path} changed since it was uploaded")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return {
                info.filename: zf.read(info) for info in zip_members(zf, f"uploaded code {path}")
            }
    except zipfile.BadZipFile as exc:
        raise PackagingError(f"uploaded code {path} is not a zip file") from exc


def zip_members(zf: zipfile.ZipFile, source: str) -> list[zipfile.ZipInfo]:
    """The files of a team's zip worth packaging, once every entry is known to stay inside
    the package: Lambda and any later unpacking would otherwise write where a name points."""
    infos = zf.infolist()
    problems = [f"{info.filename!r} {p}" for info in infos if (p := zip_entry_problem(info))]
    names = [info.filename for info in infos]
    problems += [
        f"{name!r} appears more than once" for name in sorted(set(names)) if names.count(name) > 1
    ]
    if problems:
        raise PackagingError(f"{source} has unsafe entries: {'; '.join(problems[:5])}")
    return [info for info in infos if not info.is_dir() and not excluded(info.filename)]


def zip_entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why an entry could land outside the package, or None."""
    name = info.filename
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    if "\\" in name:
        return "has a backslash in its path"
    if name.startswith("/") or _DRIVE.match(name):
        return "is an absolute path"
    parts = name.removesuffix("/").split("/")
    if ".." in parts:
        return "climbs out of the package (a .. part)"
    if "" in parts or "." in parts:
        return "has an empty or . part in its path"
    return None


def requirements_of(recipe: Mapping[str, Any], name: str = "requirements.txt") -> list[str]:
    """The requirements file shipped with custom code: its requirement lines, for the layer.
    A line that is not a plain requirement is refused, never skipped: a dropped line would
    deploy an agent without a package its code imports."""
    if recipe.get("kind") not in ("zip", "directory"):
        return []
    text = package_files(recipe).get(name)
    return [] if text is None else requirements_file(text, name)


def package_files(recipe: Mapping[str, Any]) -> dict[str, str | bytes]:
    with zipfile.ZipFile(io.BytesIO(package_code(recipe))) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _inline_files(recipe: Mapping[str, Any]) -> dict[str, str]:
    files = recipe.get("files")
    if not isinstance(files, dict) or not files:
        raise PackagingError("an inline code recipe needs a non-empty 'files' mapping")
    if not all(isinstance(text, str) for text in files.values()):
        raise PackagingError("inline code files must be text")
    return files


def generated_files(agent: Any) -> dict[str, str]:
    config = agent_config(agent)
    return {
        "handler.py": HANDLER_TEMPLATE.read_text(encoding="utf-8"),
        "agent_config.json": json.dumps(config, sort_keys=True, indent=2) + "\n",
    }


def agent_config(agent: Any) -> dict[str, Any]:
    """Validates a generated recipe's agent; unknown keys are refused rather than ignored,
    because a silently dropped setting would deploy an agent the user did not ask for."""
    if not isinstance(agent, dict):
        raise PackagingError("a generated code recipe needs an 'agent' mapping")
    unknown = sorted(set(agent) - set(_AGENT_FIELDS))
    if unknown:
        raise PackagingError(f"unknown agent settings {unknown}; known: {sorted(_AGENT_FIELDS)}")
    missing = [key for key in _REQUIRED_AGENT_FIELDS if not agent.get(key)]
    if missing:
        raise PackagingError(f"agent settings {missing} are required")
    for key, value in agent.items():
        expected = _AGENT_FIELDS[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, expected)):
            raise PackagingError(f"agent setting {key!r} has the wrong type: {value!r}")
    if not all(isinstance(tool, str) and tool for tool in agent.get("tools") or []):
        raise PackagingError("agent tools must be tool names")
    return {key: value for key, value in agent.items() if value is not None}


# Size limits


def unzipped_size(zip_bytes: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        return sum(info.file_size for info in zf.infolist())


@dataclass(frozen=True)
class SizeCheck:
    unzipped_size: int
    upload_via_s3: bool
    """The function zip is over the 50 MB direct-upload limit: upload it through S3."""


def check_sizes(
    function_zip_size: int,
    *layers: Mapping[str, int],
    function_unzipped_size: int = 0,
) -> SizeCheck:
    """Refuses what Lambda would refuse, before anything is uploaded.

    Each layer is given by its unzipped bytes per package (LayerArtifact.package_sizes),
    so a refusal can name the packages worth dropping."""
    total = function_unzipped_size + sum(sum(layer.values()) for layer in layers)
    if total > UNZIPPED_LIMIT:
        merged: dict[str, int] = {}
        for layer in layers:
            for name, size in layer.items():
                merged[name] = merged.get(name, 0) + size
        largest = sorted(merged.items(), key=lambda item: (-item[1], item[0]))[:5]
        listing = ", ".join(f"{name} {size / MB:.1f} MB" for name, size in largest)
        raise PackagingError(
            f"the function and its layers unzip to {total / MB:.1f} MB, over Lambda's "
            f"{UNZIPPED_LIMIT // MB} MB limit; largest packages: {listing}"
        )
    return SizeCheck(unzipped_size=total, upload_via_s3=function_zip_size > DIRECT_UPLOAD_LIMIT)
