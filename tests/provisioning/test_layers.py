"""Dependency layers: pip-installed for Lambda's platform, reproducible, cached by content,
and built by a pip that sees only checked requirements and the configured index."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from provisioning.strands.layers import PLATFORMS, build_layer, pip_command
from provisioning.strands.packaging import PackagingError, code_sha256, unzipped_size
from provisioning.strands.requirements import RequirementRefused


def entries(zip_bytes: bytes) -> dict[str, zipfile.ZipInfo]:
    return {info.filename: info for info in zipfile.ZipFile(io.BytesIO(zip_bytes)).infolist()}


def test_layer_holds_installed_packages_under_python_without_bytecode(tmp_path: Path) -> None:
    # When a layer is built for a small pure-python requirement
    layer = build_layer(["six==1.16.0"], cache_dir=tmp_path)

    # Then Lambda finds it under python/, with its metadata and no compiled files
    names = list(entries(layer.path.read_bytes()))
    assert "python/six.py" in names
    assert "python/six-1.16.0.dist-info/METADATA" in names
    assert all(name.startswith("python/") for name in names)
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert layer.code_sha256 == code_sha256(layer.path.read_bytes())
    assert layer.package_sizes["six.py"] > 0
    assert layer.unzipped_size == unzipped_size(layer.path.read_bytes())
    assert not layer.upload_via_s3


def test_layer_builds_are_reproducible_and_cached(tmp_path: Path) -> None:
    # Given two independent builds of the same requirements
    first = build_layer(["six==1.16.0"], cache_dir=tmp_path / "a")
    second = build_layer(["six==1.16.0"], cache_dir=tmp_path / "b")
    built_at = first.path.stat().st_mtime_ns

    # When the first cache is asked again
    again = build_layer(["six==1.16.0"], cache_dir=tmp_path / "a")

    # Then both builds are byte-identical and the repeat reuses the cached zip
    assert first.path.read_bytes() == second.path.read_bytes()
    assert again == first
    assert again.path.stat().st_mtime_ns == built_at


def test_layer_cache_key_depends_on_the_platform(tmp_path: Path) -> None:
    x86 = build_layer(["six==1.16.0"], cache_dir=tmp_path)
    arm = build_layer(["six==1.16.0"], architecture="arm64", cache_dir=tmp_path)

    assert x86.key != arm.key
    assert x86.path != arm.path


def test_layer_that_cannot_be_installed_names_the_requirements(tmp_path: Path) -> None:
    with pytest.raises(PackagingError, match=r"six==0\.0\.1"):
        build_layer(["six==0.0.1"], cache_dir=tmp_path)


def test_the_pip_command_reads_no_host_settings_and_fetches_only_from_the_configured_index(
    tmp_path: Path,
) -> None:
    # When the layer's pip command line is built for two requirements and a private mirror
    argv = pip_command(
        ["requests[socks]==2.32.0; python_version>='3.12'", "strands-agents>=1.0"],
        tmp_path / "python",
        platform=PLATFORMS["x86_64"],
        python_version="3.12",
        index_url="https://mirror.example/simple",
    )

    # Then pip ignores this host's pip config and PIP_* variables, asks nothing, installs
    # wheels only from that one index, and every requirement is a checked argument after --
    options, requirements = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    assert {"--isolated", "--no-input", "--only-binary=:all:"} <= set(options)
    assert options[options.index("--index-url") + 1] == "https://mirror.example/simple"
    assert options.count("--index-url") == 1
    assert not {"-r", "--requirement", "--extra-index-url", "--find-links", "-e"} & set(argv)
    assert requirements == [
        'requests[socks]==2.32.0; python_version >= "3.12"',
        "strands-agents>=1.0",
    ]


@pytest.mark.parametrize(
    "requirements",
    [
        ["--index-url=http://evil.example/simple"],
        ["x @ http://127.0.0.1:9/x.whl"],
        ["-r other.txt"],
    ],
)
def test_a_layer_requirement_pip_must_not_see_is_refused_before_pip_runs(
    tmp_path: Path, requirements: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[Any] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: ran.append(a))

    with pytest.raises(RequirementRefused, match="layer requirement 1"):
        build_layer(requirements, cache_dir=tmp_path)
    assert ran == []


@pytest.mark.parametrize(
    "index_url", ["", "evil.example/simple", "ftp://x/simple", "https://a b/", "http://[::1/simple"]
)
def test_an_index_that_is_not_a_url_is_refused(tmp_path: Path, index_url: str) -> None:
    with pytest.raises(PackagingError, match="package index URL"):
        pip_command(
            ["httpx"],
            tmp_path,
            platform="manylinux2014_x86_64",
            python_version="3.12",
            index_url=index_url,
        )
