"""docker-compose.yml read as compose would, for the tests that run its services without docker."""

from __future__ import annotations

import re
import shlex
import socket
import sys
from pathlib import Path
from typing import Any

import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
# What an operator's .env holds; compose refuses to start without them.
GIVEN = {"SECRET_KEY": "k9" * 30 + "Zq!x", "STRANDS_SECRETS_KEY": Fernet.generate_key().decode()}


def services() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"])


def interpolate(value: str) -> str:
    """Compose's ${NAME:?message} and ${NAME:-default}, as with only GIVEN exported."""

    def one(match: re.Match[str]) -> str:
        name, how, default = match.groups()
        return GIVEN[name] if how == ":?" else GIVEN.get(name, default)

    return re.sub(r"\$\{(\w+)(:\?|:-)([^}]*)\}", one, value)


def environment(service: dict[str, Any]) -> dict[str, str]:
    return {k: interpolate(str(v)) for k, v in service["environment"].items()}


def command(service: dict[str, Any]) -> str:
    """The service's command as one shell line, run by this interpreter."""
    given = service["command"]
    line = given[-1] if given[:2] == ["sh", "-c"] else shlex.join(given)
    return line.replace("python ", f"{shlex.quote(sys.executable)} ")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
