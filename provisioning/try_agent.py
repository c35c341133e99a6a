"""Talk to a deployed agent: invoke its function, or - where code cannot run - its package.

On AWS the function is invoked and its answer returned with the duration. The sandbox
(moto) stores functions but never runs them: its invoke answers 200 with a
FunctionError, which must never pass for an answer. There the exact deployed zip
(re-packaged from the recorded recipe and checked against Lambda's CodeSha256) is
unpacked and its handler run in a subprocess with the stand-in model, the function's
environment and a timeout, so event parsing, the tool list and the wiring still run.
"""

from __future__ import annotations

import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from provisioning import packaging
from provisioning.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, AwsContext

LOCAL_TIMEOUT_S = 60
SANDBOX_NOTE = (
    "The sandbox cannot run Lambda code, so this answer comes from the deployed package "
    "run on this machine with a stand-in model (no Bedrock call was made)."
)
_RUNNER = """
import importlib, json, sys
layers = json.loads(sys.argv[2])
sys.path[:0] = ["."]
sys.path.extend(layers)  # after site-packages, as a fallback for what the host lacks
module_name, _, function_name = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module_name), function_name)
event = json.loads(sys.stdin.read())
try:
    result = handler(event, None)
except Exception as exc:
    print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
else:
    print(json.dumps({"ok": True, "result": result}, default=str))
"""


@dataclass(frozen=True)
class Answer:
    ok: bool
    text: str
    duration_ms: int
    where: str
    """"aws" (the deployed function answered) or "local" (its package, on this machine)."""
    note: str = ""


def ask(
    aws: AwsContext,
    function: Mapping[str, Any],
    prompt: str,
    *,
    session_id: str | None = None,
    layer_keys: list[str] | None = None,
    timeout_s: int = LOCAL_TIMEOUT_S,
) -> Answer:
    """`function` is the recorded lambda:function properties (resolved) of the agent;
    `layer_keys` name its built layers, used for a local run when still in the cache."""
    event: dict[str, Any] = {"prompt": prompt}
    if session_id:
        event["session_id"] = session_id
    if aws.target.is_sandbox:
        layer_zips = local_layer_zips(layer_keys or [], function.get("architecture", "x86_64"))
        return run_locally(aws, function, event, layer_zips=layer_zips, timeout_s=timeout_s)
    return invoke(aws, function["name"], event)


def invoke(aws: AwsContext, name: str, event: Mapping[str, Any]) -> Answer:
    started = time.monotonic()
    try:
        reply = aws.client("lambda").invoke(
            FunctionName=name, Payload=json.dumps(event).encode(), InvocationType="RequestResponse"
        )
        payload = reply["Payload"].read().decode("utf-8", "replace")
    except (ClientError, BotoCoreError) as exc:
        return Answer(False, f"invoking {name}: {exc}", _ms(started), "aws")
    if reply.get("FunctionError"):
        return Answer(False, f"the function failed: {_error_text(payload)}", _ms(started), "aws")
    return Answer(True, _reply_text(payload), _ms(started), "aws")


def run_locally(
    aws: AwsContext,
    function: Mapping[str, Any],
    event: Mapping[str, Any],
    *,
    layer_zips: list[Path] | None = None,
    timeout_s: int = LOCAL_TIMEOUT_S,
) -> Answer:
    zip_bytes = packaging.package_code(function["code"])
    deployed = _deployed_sha(aws, function["name"])
    if deployed is not None and deployed != packaging.code_sha256(zip_bytes):
        return Answer(
            False, "the package changed since it was deployed: deploy again first", 0, "local"
        )
    with tempfile.TemporaryDirectory(prefix="agent-") as tmp:
        root = Path(tmp)
        zipfile.ZipFile(io.BytesIO(zip_bytes)).extractall(root / "task")
        layers = [
            _unpack_layer(path, root / f"layer{i}") for i, path in enumerate(layer_zips or [])
        ]
        started = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-c", _RUNNER, function.get("handler") or "handler.handler",
                 json.dumps(layers)],
                input=json.dumps(event), capture_output=True, text=True, timeout=timeout_s,
                cwd=root / "task", env=local_environment(aws, function), check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return Answer(False, f"no answer within {timeout_s} s", _ms(started), "local")
    return _local_answer(done, _ms(started))


def local_environment(aws: AwsContext, function: Mapping[str, Any]) -> dict[str, str]:
    """The function's variables, the stand-in model, and the sandbox as the AWS endpoint
    (a session store then lives in the sandbox's bucket). Secret references are left out:
    the stand-in model needs no key, and their values never leave the parameter store."""
    env = {
        k: str(v)
        for k, v in (function.get("environment") or {}).items()
        if not k.startswith("STRANDS_SECRET_")
    }
    env.update(
        PATH=os.environ.get("PATH", ""),
        HOME=os.environ.get("HOME", "/tmp"),
        STRANDS_DEPLOY_STAND_IN_MODEL="1",
        AWS_REGION=aws.region,
        AWS_DEFAULT_REGION=aws.region,
        AWS_LAMBDA_FUNCTION_NAME=str(function["name"]),
        OTEL_SDK_DISABLED="true",
    )
    if aws.target.endpoint_url:
        env.update(
            AWS_ENDPOINT_URL=aws.target.endpoint_url,
            AWS_ACCESS_KEY_ID=SANDBOX_ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SANDBOX_SECRET_KEY,
        )
    return env


def local_layer_zips(keys: list[str], architecture: str) -> list[Path]:
    """Built layers still in this machine's cache, when they can run here at all."""
    host = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
    if host.get(platform.machine().lower()) != architecture:
        return []
    cache = packaging.default_cache_dir()
    return [p for key in keys if (p := cache / f"layer-{key}.zip").exists()]


def _deployed_sha(aws: AwsContext, name: str) -> str | None:
    try:
        config = aws.client("lambda").get_function(FunctionName=name)["Configuration"]
    except (ClientError, BotoCoreError):
        return None
    sha = config.get("CodeSha256")
    return str(sha) if sha else None


def _unpack_layer(path: Path, into: Path) -> str:
    zipfile.ZipFile(path).extractall(into)
    return str(into / "python")


def _local_answer(done: subprocess.CompletedProcess[str], duration_ms: int) -> Answer:
    lines = done.stdout.strip().splitlines()
    try:
        outcome = json.loads(lines[-1]) if lines else None
    except ValueError:
        outcome = None
    if not isinstance(outcome, dict):
        tail = " | ".join(done.stderr.strip().splitlines()[-3:]) or f"exit code {done.returncode}"
        return Answer(
            False, f"the handler did not answer: {tail}", duration_ms, "local", SANDBOX_NOTE
        )
    if not outcome.get("ok"):
        return Answer(False, str(outcome.get("error")), duration_ms, "local", SANDBOX_NOTE)
    return Answer(True, _reply_text(outcome.get("result")), duration_ms, "local", SANDBOX_NOTE)


def _reply_text(payload: Any) -> str:
    """The agent's text from a direct invoke's reply (a JSON string) or an HTTP response."""
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return str(payload)
    if isinstance(payload, dict) and "body" in payload:
        return _reply_text(payload["body"])
    if isinstance(payload, dict) and "response" in payload:
        return str(payload["response"])
    return payload if isinstance(payload, str) else json.dumps(payload)


def _error_text(payload: str) -> str:
    try:
        data = json.loads(payload)
    except ValueError:
        return payload[:500]
    if isinstance(data, dict):
        return str(data.get("errorMessage") or data.get("errorType") or data)[:500]
    return str(data)[:500]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
