"""Function zips: deterministic, cached, safe to unpack, and within Lambda's limits."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from provisioning.strands.layers import package_sizes
from provisioning.strands.packaging import (
    MB,
    PackagingError,
    check_sizes,
    code_sha256,
    package_code,
    requirements_of,
    zip_files,
)
from provisioning.strands.requirements import RequirementRefused

AGENT: dict[str, Any] = {
    "name": "support",
    "model_id": "global.anthropic.claude-sonnet-4-6",
    "system_prompt": "You answer support questions.",
    "tools": ["calculator", "http_request"],
    "region": "us-east-1",
}


def entries(zip_bytes: bytes) -> dict[str, zipfile.ZipInfo]:
    return {info.filename: info for info in zipfile.ZipFile(io.BytesIO(zip_bytes)).infolist()}


def read(zip_bytes: bytes, name: str) -> str:
    return zipfile.ZipFile(io.BytesIO(zip_bytes)).read(name).decode()


def test_inline_recipe_zips_exactly_the_given_files() -> None:
    zip_bytes = package_code(
        {"kind": "inline", "files": {"handler.py": "def handler(e, c):\n    return 1\n"}}
    )

    assert list(entries(zip_bytes)) == ["handler.py"]
    assert read(zip_bytes, "handler.py") == "def handler(e, c):\n    return 1\n"


def test_code_sha256_is_what_lambda_reports(aws: Any) -> None:
    # Given a packaged function uploaded to (moto's) Lambda
    zip_bytes = package_code({"kind": "generated", "agent": AGENT})
    role = boto3.client("iam").create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    created = boto3.client("lambda").create_function(
        FunctionName="acme-dev-support",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": zip_bytes},
    )

    # Then our digest matches Lambda's, so an unchanged agent can plan NO_CHANGE
    assert created["CodeSha256"] == code_sha256(zip_bytes)


def test_same_recipe_gives_identical_bytes_whatever_the_key_order() -> None:
    first = package_code({"kind": "generated", "agent": AGENT})
    reordered = package_code({"agent": dict(reversed(list(AGENT.items()))), "kind": "generated"})

    assert first == reordered
    assert code_sha256(first) == code_sha256(reordered)


def test_zip_entries_have_fixed_times_and_permissions_in_sorted_order() -> None:
    zip_bytes = package_code({"kind": "inline", "files": {"b.py": "", "a/x.py": "", "a.py": ""}})

    infos = entries(zip_bytes)
    assert list(infos) == ["a.py", "a/x.py", "b.py"]
    assert {info.date_time for info in infos.values()} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 & 0o777 for info in infos.values()} == {0o644}


def test_generated_recipe_ships_the_handler_and_the_agents_config() -> None:
    zip_bytes = package_code({"kind": "generated", "agent": {**AGENT, "max_tokens": 1000}})

    assert set(entries(zip_bytes)) == {"handler.py", "agent_config.json"}
    assert "def handler(event" in read(zip_bytes, "handler.py")
    assert json.loads(read(zip_bytes, "agent_config.json")) == {**AGENT, "max_tokens": 1000}


def test_changing_the_agent_changes_the_code_digest() -> None:
    before = package_code({"kind": "generated", "agent": AGENT})
    after = package_code({"kind": "generated", "agent": {**AGENT, "system_prompt": "Be brief."}})

    assert code_sha256(before) != code_sha256(after)


def test_repeated_packaging_is_served_from_the_cache() -> None:
    recipe = {"kind": "generated", "agent": {**AGENT, "name": "cached"}}

    assert package_code(recipe) is package_code(dict(recipe))


@pytest.mark.parametrize(
    ("recipe", "complaint"),
    [
        ({"kind": "docker"}, "unknown code recipe kind"),
        ({"kind": "inline", "files": {}}, "non-empty 'files'"),
        ({"kind": "generated", "agent": {**AGENT, "memory_mb": 512}}, "unknown agent settings"),
        ({"kind": "generated", "agent": {"name": "x"}}, "'model_id'"),
        ({"kind": "generated", "agent": {**AGENT, "max_tokens": "lots"}}, "'max_tokens'"),
        ({"kind": "generated", "agent": {**AGENT, "tools": [""]}}, "tool names"),
    ],
)
def test_unusable_recipes_are_refused_with_the_reason(recipe: Any, complaint: str) -> None:
    with pytest.raises(PackagingError, match=complaint):
        package_code(recipe)


def big_site_packages(root: Path, sizes_mb: dict[str, int]) -> Path:
    """A python/ folder of sparse files: large to Lambda's arithmetic, free on disk."""
    for name, size in sizes_mb.items():
        (root / name).mkdir(parents=True)
        with (root / name / "__init__.py").open("wb") as f:
            f.truncate(size * MB)
    return root


def test_function_and_layers_over_250_mb_unzipped_are_refused_naming_the_largest(
    tmp_path: Path,
) -> None:
    # Given layers that unzip to 260 MB together
    sdk = package_sizes(big_site_packages(tmp_path / "sdk", {"botocore": 90, "strands": 40}))
    tools = package_sizes(big_site_packages(tmp_path / "tools", {"pandas": 120, "tiny": 10}))

    # Then the check refuses before anything is uploaded, pointing at what to drop
    with pytest.raises(PackagingError, match="250 MB") as refused:
        check_sizes(1 * MB, sdk, tools)
    assert "pandas 120.0 MB, botocore 90.0 MB, strands 40.0 MB" in str(refused.value)


def test_big_function_zip_goes_through_s3_and_small_one_does_not(tmp_path: Path) -> None:
    layer = package_sizes(big_site_packages(tmp_path, {"strands": 67}))

    assert check_sizes(51 * MB, layer).upload_via_s3
    small = check_sizes(5 * MB, layer, function_unzipped_size=10 * MB)
    assert not small.upload_via_s3
    assert small.unzipped_size == 77 * MB


# --- custom code ----------------------------------------------------------------------------


def team_code(root: Path) -> Path:
    """A realistic agent project: code, tools, a requirements file, and clutter."""
    (root / "tools").mkdir(parents=True)
    (root / "app.py").write_text("def main(event, context):\n    return 'hi'\n")
    (root / "tools" / "orders.py").write_text("def order_status():\n    return 'shipped'\n")
    (root / "requirements.txt").write_text("strands-agents==1.62.0\nstrands-agents-tools==0.8.10\n")
    for clutter in (".git/HEAD", "__pycache__/app.cpython-312.pyc", ".venv/bin/python", "x.pyc"):
        (root / clutter).parent.mkdir(parents=True, exist_ok=True)
        (root / clutter).write_text("clutter")
    return root


def test_a_code_directory_is_packaged_without_clutter_and_deterministically(
    tmp_path: Path,
) -> None:
    root = team_code(tmp_path / "agent")
    recipe = {"kind": "directory", "path": str(root)}

    first = package_code(recipe)
    (root / "app.py").touch()  # a newer mtime alone changes nothing
    second = package_code(recipe)

    assert list(entries(first)) == ["app.py", "requirements.txt", "tools/orders.py"]
    assert first == second
    (root / "app.py").write_text("def main(event, context):\n    return 'changed'\n")
    assert code_sha256(package_code(recipe)) != code_sha256(first)


def test_an_uploaded_zip_is_repacked_to_the_same_bytes_as_its_directory(tmp_path: Path) -> None:
    import hashlib

    root = team_code(tmp_path / "agent")
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w") as zf:  # today's timestamps, any order
        for path in sorted(root.rglob("*"), reverse=True):
            if path.is_file():
                zf.write(path, path.relative_to(root).as_posix())
    digest = hashlib.sha256(upload.read_bytes()).hexdigest()

    zipped = package_code({"kind": "zip", "path": str(upload), "sha256": digest})

    assert zipped == package_code({"kind": "directory", "path": str(root)})
    assert requirements_of({"kind": "zip", "path": str(upload), "sha256": digest}) == [
        "strands-agents==1.62.0",
        "strands-agents-tools==0.8.10",
    ]


def test_an_uploaded_zip_that_changed_is_refused(tmp_path: Path) -> None:
    upload = tmp_path / "upload.zip"
    upload.write_bytes(zip_files({"app.py": "x"}))

    with pytest.raises(PackagingError, match="changed since it was uploaded"):
        package_code({"kind": "zip", "path": str(upload), "sha256": "0" * 64})


def _raw_zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, str]]) -> dict[str, str]:
    """A zip written entry by entry, as a hostile tool would, and its code recipe."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in entries:
            zf.writestr(name, text)
    return {"kind": "zip", "path": str(path)}


def _symlink(name: str) -> zipfile.ZipInfo:
    """An entry that unpacks as a link: its content is the path it points to."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ("../../etc/x", r"'\.\./\.\./etc/x' climbs out of the package"),
        ("tools/../../x.py", "climbs out of the package"),
        ("/abs/evil", "'/abs/evil' is an absolute path"),
        ("C:/evil.py", "is an absolute path"),
        ("..\\..\\evil.py", "has a backslash"),
        (_symlink("config.py"), "'config.py' is a symbolic link"),
        pytest.param(
            "app.py",
            "'app.py' appears more than once",  # tools disagree on which copy is "the" file
            marks=pytest.mark.filterwarnings("ignore:Duplicate name"),
        ),
    ],
)
def test_an_uploaded_zip_with_an_entry_outside_the_package_is_refused(
    tmp_path: Path, entry: str | zipfile.ZipInfo, complaint: str
) -> None:
    # Given an uploaded zip with the handler and one entry that points elsewhere
    recipe = _raw_zip(tmp_path / "upload.zip", [("app.py", "x"), (entry, "/etc/passwd")])

    # When it is packaged, Then it is refused naming the entry, not shipped to Lambda
    with pytest.raises(PackagingError, match=complaint):
        package_code(recipe)


@pytest.mark.parametrize(
    "line",
    [
        "--index-url http://evil.example/simple",
        "x @ http://127.0.0.1:9/x.whl",
        "-e git+https://evil.example/x",
    ],
)
def test_a_shipped_requirements_line_pip_must_not_see_is_refused_not_dropped(
    tmp_path: Path, line: str
) -> None:
    recipe = _raw_zip(
        tmp_path / "upload.zip", [("app.py", "x"), ("requirements.txt", f"httpx==0.28.1\n{line}\n")]
    )

    with pytest.raises(RequirementRefused, match=r"requirements\.txt line 2") as refused:
        requirements_of(recipe)
    assert "evil.example" not in str(refused.value) and "127.0.0.1" not in str(refused.value)
