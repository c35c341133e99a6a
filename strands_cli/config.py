"""Where the server is and the token to use: environment first, then the config file.

The file holds a secret, so it is written 0600 in a 0700 folder, and one that others can read
is refused rather than used (as ssh does with keys).
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from strands_cli.outcome import CliError, Exit

URL_VARIABLE = "STRANDS_DEPLOY_URL"
TOKEN_VARIABLE = "STRANDS_DEPLOY_TOKEN"
NOT_CONFIGURED = (
    "no server configured: run `strands-deploy login --url URL`, or set "
    f"{URL_VARIABLE} and {TOKEN_VARIABLE}"
)


@dataclass(frozen=True)
class Config:
    url: str
    token: str


def default_config_path(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "strands-deploy" / "config.toml"


def load_config(env: Mapping[str, str], path: Path) -> Config:
    """Each value from the environment when set there, else from the file."""
    saved = _read_file(path)
    url = env.get(URL_VARIABLE) or saved.get("url", "")
    token = env.get(TOKEN_VARIABLE) or saved.get("token", "")
    if not url or not token:
        missing = TOKEN_VARIABLE if url else URL_VARIABLE
        raise CliError(f"{NOT_CONFIGURED} ({missing} is missing)", Exit.USAGE)
    return Config(url=normalise_url(url), token=token.strip())


def save_config(config: Config, path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = f"url = {json.dumps(config.url)}\ntoken = {json.dumps(config.token)}\n"
    # Created 0600, and an existing file is narrowed before the token is written into it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def normalise_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise CliError(
            f"the server URL must start with http:// or https://, not {url!r}", Exit.USAGE
        )
    return url


def _read_file(path: Path) -> dict[str, str]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CliError(
            f"{path} holds a token but other users can read it (mode {stat.S_IMODE(mode):04o}): "
            f"run `chmod 600 {path}`",
            Exit.USAGE,
        )
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CliError(f"{path} is not valid TOML: {error}", Exit.USAGE) from error
    return {key: value for key, value in data.items() if isinstance(value, str)}
