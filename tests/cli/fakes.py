"""A fake Strands Deploy server behind `httpx.MockTransport`, and a way to run the CLI on it."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from strands_cli.context import Context
from strands_cli.main import run

TOKEN = "sdp_" + "t" * 40
URL = "https://deploy.example.test"
Answer = Callable[[httpx.Request], httpx.Response]


def reply(status: int = 200, body: Any = None, **headers: str) -> Answer:
    return lambda request: httpx.Response(status, json=body, headers=headers)


def error(status: int, message: str, **extra: Any) -> Answer:
    retry_after = extra.pop("retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return lambda request: httpx.Response(
        status, json={"error": message, "field": None, **extra}, headers=headers
    )


def event_stream(*events: dict[str, Any]) -> Answer:
    """An SSE answer carrying `events`, then closed (the run is over)."""
    text = ": keep-alive\n\n" + "".join(
        f"id: {event['seq']}\ndata: {json.dumps(event)}\n\n" for event in events
    )
    return lambda request: httpx.Response(
        200, content=text.encode(), headers={"content-type": "text/event-stream"}
    )


def event(seq: int, resource: str | None, status: str, message: str = "") -> dict[str, Any]:
    return {"seq": seq, "at": f"2026-05-01T10:00:{seq:02d}Z", "resource": resource,
            "status": status, "message": message}  # fmt: skip


@dataclass
class FakeServer:
    """Routes (method, path) to answers given in order; the last answer repeats."""

    routes: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, method: str, path: str, *answers: Answer) -> FakeServer:
        self.routes[(method, path)] = list(answers)
        return self

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answers = self.routes.get((request.method, request.url.path))
        if not answers:
            return httpx.Response(404, json={"error": f"no route {request.url.path}"})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(request)

    def called(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def body(self, method: str, path: str) -> Any:
        return json.loads(self.called(method, path)[-1].content)


@dataclass
class Result:
    code: int
    out: str
    err: str
    sleeps: list[float]


def run_cli(
    server: FakeServer,
    *argv: str,
    tmp_path: Path,
    stdin: str = "",
    env: dict[str, str] | None = None,
    terminal: bool = False,
    sleep: Callable[[float], None] | None = None,
    secret: str = "",
) -> Result:
    out, err = io.StringIO(), io.StringIO()
    sleeps: list[float] = []
    ctx = Context(
        out=Console(file=out, width=200, force_terminal=terminal, color_system=None, markup=False),
        err=Console(
            file=err,
            width=200,
            force_terminal=terminal,
            color_system=None,
            soft_wrap=True,
            markup=False,
        ),
        env={"STRANDS_DEPLOY_URL": URL, "STRANDS_DEPLOY_TOKEN": TOKEN} if env is None else env,
        config_path=tmp_path / "config" / "strands-deploy" / "config.toml",
        stdin=io.StringIO(stdin),
        read_secret=lambda prompt: secret,
        sleep=sleep or sleeps.append,
        transport=httpx.MockTransport(server.handle),
    )
    code = run(list(argv), ctx)
    return Result(code=code, out=out.getvalue(), err=err.getvalue(), sleeps=sleeps)
