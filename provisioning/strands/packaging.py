"""Lambda deployment packages: the agent's function zip and its dependency layer.

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
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import urllib.parse
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from provisioning.errors import EngineError
from provisioning.strands.requirements import pip_arguments, requirements_file

HANDLER = "handler.handler"
HANDLER_TEMPLATE = Path(__file__).with_name("templates") / "lambda_handler.py"

MB = 1024 * 1024
DIRECT_UPLOAD_LIMIT = 50 * MB
"""Larger zips must be uploaded to S3 and referenced, not sent in the API call."""
UNZIPPED_LIMIT = 250 * MB
"""Function plus all its layers, unzipped."""

PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
PYPI_SIMPLE = "https://pypi.org/simple"
"""The package index layers are built from unless the engine is told another one."""
_PYTHON_VERSION = re.compile(r"^3\.\d{1,2}$")
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
}
EXCLUDED = (".git", ".hg", ".svn", "__pycache__", "*.pyc", "*.pyo", ".venv", "venv",
            ".mypy_cache", ".pytest_cache", ".ruff_cache", ".DS_Store", "node_modules")  # fmt: skip
"""Never packaged from a team's code: version control, caches, virtual environments."""
_REQUIRED_AGENT_FIELDS = ("name", "model_id")


class PackagingError(EngineError):
    pass


@dataclass(frozen=True)
class Builds:
    """How this machine builds packages: the operator's choice, the same for every run."""

    index_url: str = PYPI_SIMPLE
    """The only package index pip may fetch from (a private mirror, or PyPI)."""


def code_sha256(zip_bytes: bytes) -> str:
    """The digest exactly as Lambda reports it in CodeSha256 (base64, not hex)."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode("ascii")


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _entry(name: str, mode: int = 0o644) -> zipfile.ZipInfo:
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
            zf.writestr(_entry(name), data.encode("utf-8") if isinstance(data, str) else data)
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


# Dependency layers


@dataclass(frozen=True)
class LayerArtifact:
    path: Path
    """The layer zip; its entries live under python/ as Lambda expects."""
    key: str
    """sha256 hex of (sorted requirements, platform, python version): the cache key."""
    code_sha256: str
    zip_size: int
    package_sizes: Mapping[str, int] = field(default_factory=dict)
    """Unzipped bytes per top-level entry under python/ (a package, module or dist-info)."""

    @property
    def unzipped_size(self) -> int:
        return sum(self.package_sizes.values())

    @property
    def upload_via_s3(self) -> bool:
        return self.zip_size > DIRECT_UPLOAD_LIMIT


def default_cache_dir() -> Path:
    """Built layers, shared by every stage and run on this machine (they are keyed by content)."""
    configured = os.environ.get("STRANDS_DEPLOY_CACHE_DIR")
    base = Path(configured) if configured else Path.home() / ".cache" / "strands-deploy"
    return base / "layers"


def layer_key(requirements: Iterable[str], platform: str, python_version: str) -> str:
    return hashlib.sha256(
        canonical([sorted(requirements), platform, python_version]).encode()
    ).hexdigest()


def build_layer(
    requirements: list[str],
    *,
    python_version: str = "3.12",
    architecture: str = "x86_64",
    cache_dir: Path,
    index_url: str = PYPI_SIMPLE,
) -> LayerArtifact:
    """pip-installs requirements for Lambda's platform into a layer zip, cached by content.
    The requirements are checked again here: whatever stored them, pip gets only plain ones."""
    if architecture not in PLATFORMS:
        raise PackagingError(f"unknown architecture {architecture!r}: expected x86_64 or arm64")
    platform = PLATFORMS[architecture]
    key = layer_key(requirements, platform, python_version)
    zip_path, meta_path = cache_dir / f"layer-{key}.zip", cache_dir / f"layer-{key}.json"
    if zip_path.exists() and meta_path.exists():
        return _artifact(zip_path, key, json.loads(meta_path.read_text()))
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="layer-", dir=cache_dir) as tmp:
        root, empty = Path(tmp) / "python", Path(tmp) / "cwd"
        empty.mkdir()
        argv = pip_command(
            requirements,
            root,
            platform=platform,
            python_version=python_version,
            index_url=index_url,
        )
        _pip_install(argv, requirements, platform=platform, cwd=empty)
        _strip(root)
        sizes = package_sizes(root)
        staged = Path(tmp) / "layer.zip"
        with staged.open("wb") as out:
            zip_directory(Path(tmp), ["python"], out)
        meta = Path(tmp) / "layer.json"
        meta.write_text(canonical(sizes))
        # Publish atomically, metadata last: a reader never sees a half-written layer.
        os.replace(staged, zip_path)
        os.replace(meta, meta_path)
    return _artifact(zip_path, key, sizes)


def _artifact(zip_path: Path, key: str, sizes: Mapping[str, int]) -> LayerArtifact:
    with zip_path.open("rb") as f:
        digest = base64.b64encode(hashlib.file_digest(f, "sha256").digest()).decode("ascii")
    return LayerArtifact(zip_path, key, digest, zip_path.stat().st_size, dict(sizes))


def pip_command(
    requirements: Iterable[str],
    target: Path,
    *,
    platform: str,
    python_version: str,
    index_url: str = PYPI_SIMPLE,
) -> list[str]:
    """pip's argv for a layer: it reads no configuration or environment of this host
    (--isolated), asks nobody (--no-input), fetches only from `index_url`, installs wheels
    only (no package's build code runs here), and takes each requirement as a checked
    argument after `--`, never a file a team wrote."""
    if not _PYTHON_VERSION.match(python_version):
        raise PackagingError(f"building a layer for Python {python_version!r}: expected e.g. 3.12")
    return [
        sys.executable, "-m", "pip", "install", "--isolated", "--no-input", "--quiet",
        "--disable-pip-version-check", "--index-url", _index_url(index_url),
        "--target", str(target), "--platform", platform,
        "--python-version", python_version, "--implementation", "cp",
        "--only-binary=:all:", "--no-compile", "--", *pip_arguments(requirements),
    ]  # fmt: skip


def _index_url(url: str) -> str:
    """The operator's index, as pip's one source: a web index or, offline, a local mirror."""
    try:
        parsed = urllib.parse.urlsplit(url)
        usable = (parsed.scheme in ("https", "http") and parsed.hostname) or (
            parsed.scheme == "file" and parsed.path
        )
    except ValueError:  # e.g. an unclosed [ in the host
        usable = False
    if not usable or any(c.isspace() for c in url):
        # Not echoed: an index URL may carry a token.
        raise PackagingError(
            "building a layer: the package index URL is not an http(s) or file URL"
        )
    return url


def _pip_install(command: list[str], requirements: list[str], *, platform: str, cwd: Path) -> None:
    # An empty working directory: pip takes a requirement named like a local file for that file.
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise PackagingError(
            f"installing layer requirements {requirements} for {platform}: " + " | ".join(tail)
        )


def _strip(root: Path) -> None:
    """Drops what Lambda never uses; *.dist-info stays (the SDK's telemetry reads it)."""
    for cache in sorted(root.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)
    for compiled in root.rglob("*.py[co]"):
        compiled.unlink()
    # Console scripts carry the build host's interpreter path: useless on Lambda, not reproducible.
    shutil.rmtree(root / "bin", ignore_errors=True)


def zip_directory(base: Path, tops: Iterable[str], out: IO[bytes]) -> None:
    """Zips base/<top>/** deterministically: sorted, fixed times, 0644 or 0755 modes."""
    paths = [p for top in tops for p in (base / top).rglob("*") if p.is_file()]
    with zipfile.ZipFile(out, "w") as zf:
        for path in sorted(paths, key=lambda p: p.relative_to(base).as_posix()):
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            with (
                path.open("rb") as src,
                zf.open(_entry(path.relative_to(base).as_posix(), mode), "w") as dst,
            ):
                shutil.copyfileobj(src, dst, 1024 * 1024)


def package_sizes(root: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for child in root.iterdir():
        files = [child] if child.is_file() else [p for p in child.rglob("*") if p.is_file()]
        sizes[child.name] = sum(p.stat().st_size for p in files)
    return dict(sorted(sizes.items()))


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
