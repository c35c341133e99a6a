"""Dependency layers: requirements pip-installed for Lambda's platform into a zip.

A layer is keyed by its content (sorted requirements, platform, Python version) and built
once per machine: the same key always names the same bytes, so an unchanged agent's layer
plans NO_CHANGE and is never uploaded again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from provisioning.strands.packaging import (
    DIRECT_UPLOAD_LIMIT,
    PackagingError,
    canonical,
    fixed_entry,
)
from provisioning.strands.requirements import pip_arguments

PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
PYPI_SIMPLE = "https://pypi.org/simple"
"""The package index layers are built from unless the engine is told another one."""
_PYTHON_VERSION = re.compile(r"^3\.\d{1,2}$")


@dataclass(frozen=True)
class Builds:
    """How this machine builds packages: the operator's choice, the same for every run."""

    index_url: str = PYPI_SIMPLE
    """The only package index pip may fetch from (a private mirror, or PyPI)."""


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
                zf.open(fixed_entry(path.relative_to(base).as_posix(), mode), "w") as dst,
            ):
                shutil.copyfileobj(src, dst, 1024 * 1024)


def package_sizes(root: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for child in root.iterdir():
        files = [child] if child.is_file() else [p for p in child.rglob("*") if p.is_file()]
        sizes[child.name] = sum(p.stat().st_size for p in files)
    return dict(sorted(sizes.items()))
