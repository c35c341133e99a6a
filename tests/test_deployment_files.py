"""What docker-compose.yml, the Dockerfile, .dockerignore and pyproject.toml promise an
operator, read from the files themselves (docker does not run on our machines)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def stages() -> dict[str, list[str]]:
    """The Dockerfile's instructions per build stage (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.IGNORECASE)
        if match:
            current = found.setdefault(match.group(1), [])
        current.append(line)
    return found


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def command_of(service: dict[str, Any]) -> str:
    command = service["command"]
    return command if isinstance(command, str) else shlex.join(command)


# --- docker-compose.yml ----------------------------------------------------------------------
def test_the_web_migrates_and_collects_static_files_before_serving(
    compose: dict[str, Any],
) -> None:
    command = command_of(compose["services"]["web"])

    steps = [command.find(s) for s in ("migrate", "collectstatic", "daphne")]

    assert -1 not in steps and steps == sorted(steps), command
    assert "loaddemo" not in command  # no demo user with a published password


def test_web_and_workers_share_one_volume_for_uploads_and_the_layer_cache(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in ("web", "worker"):
        env = services[name]["environment"]
        mounts = dict(v.split(":", 1)[::-1] for v in services[name]["volumes"])
        for setting in ("AGENT_CODE_ROOT", "STRANDS_DEPLOY_CACHE_DIR"):
            volume = [v for path, v in mounts.items() if env[setting].startswith(path + "/")]
            assert volume == ["appdata"], (name, setting)
    assert "appdata" in compose["volumes"]


def test_plain_http_by_default_with_debug_off(compose: dict[str, Any]) -> None:
    env = compose["services"]["web"]["environment"]

    assert env["DEBUG"] == "0"
    assert env["SECURE_SSL_REDIRECT"] == "${SECURE_SSL_REDIRECT:-0}"
    assert env["SECURE_PROXY_SSL_HEADER"] == "${SECURE_PROXY_SSL_HEADER:-}"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # no published default
    assert env["STRANDS_SECRETS_KEY"].startswith("${STRANDS_SECRETS_KEY:?")


def test_the_sandbox_is_an_optional_profile_from_its_own_image(compose: dict[str, Any]) -> None:
    services = compose["services"]

    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert services["sandbox"]["build"]["target"] == "sandbox"
    assert services["sandbox"]["ports"] == ["127.0.0.1:4566:4566"]  # never the network's
    assert all("profiles" not in services[s] for s in ("postgres", "redis", "web", "worker"))
    assert services["proxy"]["profiles"] == ["proxy"]  # TLS in front, when asked for
    assert services["web"]["build"]["target"] == services["worker"]["build"]["target"]
    assert services["web"]["build"]["target"] == "production"


def test_every_service_has_a_healthcheck_and_workers_wait_for_a_migrated_web(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]

    assert {name for name, s in services.items() if s.get("healthcheck", {}).get("test")} == set(
        services
    )
    assert services["worker"]["depends_on"]["web"] == {"condition": "service_healthy"}


# --- Dockerfile ------------------------------------------------------------------------------
def test_the_image_is_built_in_stages_and_production_leaves_the_sandbox_out(
    stages: dict[str, list[str]],
) -> None:
    production = " ".join(stages["production"])

    assert list(stages) == ["build", "sandbox-wheels", "production", "sandbox"]
    assert "/wheels-sandbox" not in production and "moto" not in production
    assert stages["sandbox"][0].startswith("FROM production AS sandbox")


@pytest.mark.parametrize("stage", ["production", "sandbox"])
def test_the_image_runs_as_an_unprivileged_user_with_a_cmd_and_a_healthcheck(
    stages: dict[str, list[str]], stage: str
) -> None:
    lines = stages[stage]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]

    assert users and users[-1] not in ("root", "0")
    assert any(line.startswith("CMD [") for line in lines)
    assert any(line.startswith("HEALTHCHECK ") for line in lines)


def test_the_image_collects_static_files(stages: dict[str, list[str]]) -> None:
    assert any("manage.py collectstatic" in line for line in stages["production"])


def test_the_build_context_leaves_out_environments_databases_and_caches() -> None:
    ignored = {
        line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
    }

    assert {".venv", "var", ".git", "**/__pycache__", ".pytest_cache", ".mypy_cache"} <= ignored
    assert "*.sqlite3" in ignored


# --- pyproject.toml, Makefile ----------------------------------------------------------------
def test_moto_is_the_sandbox_extra_that_make_installs(pyproject: dict[str, Any]) -> None:
    project = pyproject["project"]

    assert not [d for d in project["dependencies"] if d.startswith("moto")]
    assert [d for d in project["optional-dependencies"]["sandbox"] if d.startswith("moto[server]")]
    assert "-e '.[dev,sandbox]'" in (ROOT / "Makefile").read_text()


def test_a_wheel_carries_the_templates_and_static_files(pyproject: dict[str, Any]) -> None:
    patterns = pyproject["tool"]["setuptools"]["package-data"]["dashboard"]
    package = ROOT / "dashboard"

    for folder in ("templates", "static"):
        assert (package / folder).resolve() == ROOT / folder  # the package's link to it
        files = {p for p in (ROOT / folder).rglob("*") if p.is_file()}
        carried = {p for pattern in patterns for p in package.glob(pattern) if p.is_file()}
        assert files and {package / folder / p.relative_to(ROOT / folder) for p in files} <= carried


# --- the production import path --------------------------------------------------------------
WITHOUT_MOTO = """
import importlib, sys

class NoMoto:
    # As if the [sandbox] extra were not installed.
    def find_spec(self, name, path=None, target=None):
        if name == "moto" or name.startswith("moto."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoMoto())
import django
django.setup()
for module in ("dashboard.urls", "dashboard.asgi", "dashboard.runs.actors",
               "dashboard.runs.execution", "dashboard.admin"):
    importlib.import_module(module)
from django.core.management import call_command
call_command("check")
from provisioning import sandbox
try:
    sandbox.start()
except sandbox.SandboxUnavailable as exc:
    print("refused:", exc)
print("moto loaded" if "moto" in sys.modules else "moto never loaded")
"""


def test_the_dashboard_starts_without_moto_and_the_sandbox_says_what_it_needs(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"DJANGO_SETTINGS_MODULE": "dashboard.settings", "STRANDS_VAR_DIR": str(tmp_path)}

    ran = subprocess.run(
        [sys.executable, "-c", WITHOUT_MOTO],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert ran.returncode == 0, ran.stderr
    assert "refused: the sandbox needs moto, the [sandbox] extra" in ran.stdout
    assert "moto never loaded" in ran.stdout
