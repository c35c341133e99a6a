"""What a command may touch of the outside world, passed in so tests can replace each part."""

from __future__ import annotations

import getpass
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx
from rich.console import Console

from strands_cli.client import ApiClient
from strands_cli.config import Config, default_config_path, load_config


@dataclass
class Context:
    out: Console
    err: Console
    env: Mapping[str, str]
    config_path: Path
    stdin: TextIO
    read_secret: Callable[[str], str] = getpass.getpass
    sleep: Callable[[float], None] = time.sleep
    transport: httpx.BaseTransport | None = None
    _clients: list[ApiClient] = field(default_factory=list)

    @classmethod
    def real(cls) -> Context:
        return cls(
            out=Console(markup=False),
            err=Console(stderr=True, soft_wrap=True, markup=False),
            env=os.environ,
            config_path=default_config_path(os.environ),
            stdin=sys.stdin,
        )

    def client(self, config: Config | None = None) -> ApiClient:
        config = config or load_config(self.env, self.config_path)
        client = ApiClient(config.url, config.token, transport=self.transport, sleep=self.sleep)
        self._clients.append(client)
        return client

    def confirm(self, question: str) -> bool:
        """Yes only when the user types it; no terminal (an empty stdin in CI) is a no."""
        self.err.print(f"{question} [y/N] ", end="", highlight=False, markup=False)
        answer = self.stdin.readline()
        if not answer:
            self.err.print()
        return answer.strip().lower() in {"y", "yes"}

    def close(self) -> None:
        for client in self._clients:
            client.close()
