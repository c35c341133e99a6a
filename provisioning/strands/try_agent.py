"""Talk to a deployed agent: invoke its function, or - where code cannot run - its package.

On AWS the function is invoked and its answer returned with the duration. The sandbox
(moto) stores functions but never runs them: its invoke answers 200 with a
FunctionError, which must never pass for an answer. There the exact deployed zip
(re-packaged from the recorded recipe and checked against Lambda's CodeSha256) is
unpacked and its handler run with the stand-in model and the function's environment, so
event parsing, the tool list and the wiring still run. That handler is code a deployer
uploaded, run on the web server: it runs confined (isolation.py), and an operator can
switch such runs off (`allow_local`).
"""

from __future__ import annotations

import io
import json
import platform
import sys
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from provisioning.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, AwsContext
from provisioning.strands import isolation, layers, packaging, sandbox_logs

LOCAL_LIMITS = isolation.Limits(timeout_s=60, cpu_s=60, memory_mb=2048)
LOCAL_RUNS_OFF = (
    "Running uploaded agent code on this server is switched off by its operator "
    "(STRANDS_LOCAL_AGENT_RUNS), and the sandbox cannot run Lambda code: deploy to AWS to talk "
    "to this agent."
)
SANDBOX_NOTE = (
    "The sandbox cannot run Lambda code, so this answer comes from the deployed package "
    "run on this machine with a stand-in model (no Bedrock call was made)."
)
_RUNNER = """
import importlib, json, resource, sys
layers = json.loads(sys.argv[2])
sys.path[:0] = ["."]
sys.path.extend(layers)  # after site-packages, as a fallback for what the host lacks
module_name, _, function_name = sys.argv[1].rpartition(".")
event = json.loads(sys.stdin.read())
try:
    handler = getattr(importlib.import_module(module_name), function_name)
    result = handler(event, None)
except MemoryError:
    limit = resource.getrlimit(resource.RLIMIT_AS)[0] // (1024 * 1024)
    print(json.dumps({"ok": False, "error": f"the handler ran out of memory (limit {limit} MB)"}))
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
    allow_local: bool,
    limits: isolation.Limits = LOCAL_LIMITS,
    hide: Sequence[str] = (),
) -> Answer:
    """`function` is the recorded lambda:function properties (resolved) of the agent;
    `layer_keys` name its built layers, used for a local run when still in the cache;
    `allow_local` says whether this server may run uploaded code at all, and `hide` which
    of its directories such code must not see."""
    event: dict[str, Any] = {"prompt": prompt}
    if session_id:
        event["session_id"] = session_id
    if aws.target.is_sandbox:
        layer_zips = local_layer_zips(layer_keys or [], function.get("architecture", "x86_64"))
        return run_locally(
            aws, function, event,
            layer_zips=layer_zips, limits=limits, allow_local=allow_local, hide=hide,
        )  # fmt: skip
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
    allow_local: bool,
    limits: isolation.Limits = LOCAL_LIMITS,
    hide: Sequence[str] = (),
) -> Answer:
    """Run the deployed package's handler confined (isolation.py): the uploaded code is
    untrusted, and this machine is the web server. `allow_local` is the operator's switch."""
    if not allow_local:
        return Answer(False, LOCAL_RUNS_OFF, 0, "local")
    zip_bytes = packaging.package_code(function["code"])
    deployed = _deployed_sha(aws, function["name"])
    if deployed is not None and deployed != packaging.code_sha256(zip_bytes):
        return Answer(
            False, "the package changed since it was deployed: deploy again first", 0, "local"
        )
    try:
        return _run_confined(aws, function, event, zip_bytes, layer_zips or [], limits, hide)
    except isolation.IsolationError as exc:
        return Answer(False, str(exc), 0, "local")


def _run_confined(
    aws: AwsContext,
    function: Mapping[str, Any],
    event: Mapping[str, Any],
    zip_bytes: bytes,
    layer_zips: list[Path],
    limits: isolation.Limits,
    hide: Sequence[str],
) -> Answer:
    with isolation.box() as place:
        zipfile.ZipFile(io.BytesIO(zip_bytes)).extractall(place.task)
        layers = [
            _unpack_layer(path, place.root / f"layer{i}") for i, path in enumerate(layer_zips)
        ]
        place.seal()
        argv = [sys.executable, "-I", "-c", _RUNNER, function.get("handler") or "handler.handler",
                json.dumps(layers)]  # fmt: skip
        started = time.monotonic()
        done = isolation.run(
            argv, place=place, env=local_environment(aws, function),
            stdin=json.dumps(event), limits=limits, hide=hide,
        )  # fmt: skip
    answer = _local_answer(done, _ms(started))
    output = sandbox_logs.handler_output(done.stdout, done.stderr)
    error = "" if answer.ok else answer.text
    sandbox_logs.record_run(
        aws, str(function["name"]), output, duration_ms=answer.duration_ms, error=error
    )
    return answer


def local_environment(aws: AwsContext, function: Mapping[str, Any]) -> dict[str, str]:
    """The function's variables, the stand-in model, and the sandbox as the AWS endpoint
    (a session store then lives in the sandbox's bucket) - and nothing of this server's.
    Secret references are left out: the stand-in model needs no key, and their values never
    leave the parameter store. The stand-in credentials are set even without an endpoint,
    and the instance metadata service is off, so the child never finds the host's role."""
    env = {
        k: str(v)
        for k, v in (function.get("environment") or {}).items()
        if not k.startswith("STRANDS_SECRET_")
    }
    env.update(
        STRANDS_DEPLOY_STAND_IN_MODEL="1",
        AWS_REGION=aws.region,
        AWS_DEFAULT_REGION=aws.region,
        AWS_LAMBDA_FUNCTION_NAME=str(function["name"]),
        OTEL_SDK_DISABLED="true",
        AWS_ACCESS_KEY_ID=SANDBOX_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SANDBOX_SECRET_KEY,
        AWS_EC2_METADATA_DISABLED="true",
    )
    if aws.target.endpoint_url:
        env.update(AWS_ENDPOINT_URL=aws.target.endpoint_url)
    return env


def local_layer_zips(keys: list[str], architecture: str) -> list[Path]:
    """Built layers still in this machine's cache, when they can run here at all."""
    host = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
    if host.get(platform.machine().lower()) != architecture:
        return []
    cache = layers.default_cache_dir()
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


def _local_answer(done: isolation.Outcome, duration_ms: int) -> Answer:
    if done.problem:
        text = f"the handler {done.problem}"
        return Answer(False, text, duration_ms, "local", SANDBOX_NOTE)
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
