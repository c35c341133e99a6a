"""Lambda entry point for one Strands agent, packaged by Strands Deploy as `handler.py`.

The agent is described by `agent_config.json` beside this file and built once per
container. One handler answers every way the graph can wire an agent:

- an API Gateway HTTP API (payload v2) request: body `{"prompt": ...}` or plain text;
- an SQS batch: each message body is a prompt; failed messages are reported in
  `batchItemFailures` so only they return to the queue;
- an SNS notification: each message is a prompt;
- a direct invoke `{"prompt": ...}`: returns the agent's text.

Conversations: with STRANDS_DEPLOY_SESSION_BUCKET set, a request that names a session
(`session_id` in the JSON body or payload, the `x-session-id` header, or an SQS message
attribute `session_id`) resumes it from S3 through strands' S3SessionManager; without
one, every request starts afresh. The agent is always built with the configured model:
a resumed session given no model silently falls back to the SDK's default model.

Set STRANDS_DEPLOY_STAND_IN_MODEL=1 to answer with a local echo model instead of Bedrock
(sandbox runs and local tests); `build_agent(model=...)` accepts any Strands model.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import re
import time
from collections.abc import AsyncGenerator, AsyncIterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from strands import Agent
from strands.models import BedrockModel
from strands.models.model import Model
from strands.session.s3_session_manager import S3SessionManager
from strands.types.content import Messages
from strands.types.streaming import StreamEvent
from strands.types.tools import ToolSpec

CONFIG_PATH = Path(__file__).with_name("agent_config.json")
STAND_IN_ENV = "STRANDS_DEPLOY_STAND_IN_MODEL"
SESSION_BUCKET_ENV = "STRANDS_DEPLOY_SESSION_BUCKET"
SESSION_PREFIX_ENV = "STRANDS_DEPLOY_SESSION_PREFIX"
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

logger = logging.getLogger("strands_deploy.handler")
logger.setLevel(logging.INFO)

T = TypeVar("T")

_agent: Agent | None = None
_model: Model | None = None
_tools: list[Any] | None = None


class BadRequest(ValueError):
    """The event carries no usable prompt: the caller's fault, not the agent's."""


class StandInModel(Model):
    """Replies "stand-in reply: <prompt>" without any network call."""

    def __init__(self, **config: Any) -> None:
        self.config: dict[str, Any] = dict(config)

    def update_config(self, **model_config: Any) -> None:
        self.config.update(model_config)

    def get_config(self) -> dict[str, Any]:
        return self.config

    async def structured_output(
        self,
        output_model: type[T],
        prompt: Messages,
        system_prompt: str | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[dict[str, T | Any], None]:
        raise NotImplementedError("the stand-in model has no structured output")
        yield {}  # pragma: no cover - makes this an async generator

    async def stream(
        self,
        messages: Messages,
        tool_specs: list[ToolSpec] | None = None,
        system_prompt: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterable[StreamEvent]:
        text = f"stand-in reply: {_last_user_text(messages)}"
        yield {"messageStart": {"role": "assistant"}}
        yield {"contentBlockDelta": {"delta": {"text": text}}}
        yield {"contentBlockStop": {}}
        yield {"messageStop": {"stopReason": "end_turn"}}


def _last_user_text(messages: Messages) -> str:
    for message in reversed(messages):
        if message["role"] == "user":
            return "".join(str(block.get("text", "")) for block in message["content"])
    return ""


def load_config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    return config


def bedrock_model(config: Mapping[str, Any]) -> BedrockModel:
    # Region is always explicit: the SDK's own default region may not offer the model.
    region = config.get("region") or os.environ.get("AWS_REGION") or "us-east-1"
    settings: dict[str, Any] = {}
    if config.get("max_tokens") is not None:
        settings["max_tokens"] = config["max_tokens"]
    if config.get("temperature") is not None:
        settings["temperature"] = config["temperature"]
    return BedrockModel(model_id=config["model_id"], region_name=region, **settings)


def provider_model(config: Mapping[str, Any]) -> Model:
    """The configured model of a provider other than Bedrock; its API key comes from the
    secret environment variable named in the config (never from the package)."""
    provider = config["provider"]
    api_key = os.environ.get(config.get("api_key_env") or "", "")
    client_args = {"api_key": api_key} if api_key else {}
    params: dict[str, Any] = {}
    if config.get("temperature") is not None:
        params["temperature"] = config["temperature"]
    max_tokens = config.get("max_tokens")
    if provider == "anthropic":
        from strands.models.anthropic import AnthropicModel

        return AnthropicModel(
            client_args=client_args,
            model_id=config["model_id"],
            max_tokens=max_tokens or 4096,  # Anthropic's API requires it
            params=params,
        )
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    if provider == "openai":
        from strands.models.openai import OpenAIModel

        return OpenAIModel(client_args=client_args, model_id=config["model_id"], params=params)
    if provider == "litellm":
        from strands.models.litellm import LiteLLMModel

        return LiteLLMModel(client_args=client_args, model_id=config["model_id"], params=params)
    raise RuntimeError(f"unknown model provider {provider!r}")


def configured_model(config: Mapping[str, Any]) -> Model:
    if os.environ.get(STAND_IN_ENV) == "1":
        return StandInModel()
    if config.get("provider", "bedrock") == "bedrock":
        return bedrock_model(config)
    return provider_model(config)


def load_tool(name: str) -> ModuleType:
    """A strands-agents-tools name ("calculator") or a dotted module path."""
    module = name if "." in name else f"strands_tools.{name}"
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(f"tool {name!r} is not installed (import {module}): {exc}") from exc


def build_agent(
    model: Model | None = None,
    config: Mapping[str, Any] | None = None,
    session_manager: Any = None,
    tools: list[Any] | None = None,
) -> Agent:
    config = load_config() if config is None else config
    return Agent(
        # Always the configured model, also when resuming a session: given none, the SDK
        # would quietly use its own default model instead.
        model=model if model is not None else configured_model(config),
        name=config["name"],
        agent_id=_agent_id(config["name"]),
        system_prompt=config.get("system_prompt") or None,
        tools=tools if tools is not None else [load_tool(n) for n in config.get("tools", [])],
        session_manager=session_manager,
        callback_handler=None,  # the default handler prints every token to the logs
    )


def _agent_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name) or "agent"


def load_secrets(environ: Any = None, ssm: Any = None) -> None:
    """Secret variables arrive as STRANDS_SECRET_<NAME>=<SSM parameter name>; read each
    SecureString once per container into <NAME>."""
    environ = os.environ if environ is None else environ
    prefix = "STRANDS_SECRET_"
    wanted = {k[len(prefix) :]: v for k, v in environ.items() if k.startswith(prefix)}
    if wanted and ssm is None:
        import boto3  # in every Lambda Python runtime

        ssm = boto3.client("ssm")
    for name, parameter in wanted.items():
        reply = ssm.get_parameter(Name=parameter, WithDecryption=True)
        environ[name] = reply["Parameter"]["Value"]


def get_agent() -> Agent:
    """The container's agent without a session: built once, reused by every request."""
    global _agent, _model, _tools
    if _agent is None:
        load_secrets()
        config = load_config()
        _model = _model or configured_model(config)
        _tools = _tools if _tools is not None else [load_tool(n) for n in config["tools"]]
        _agent = build_agent(_model, config, tools=_tools)
    return _agent


def reset_agent(model: Model | None = None) -> Agent:
    """Rebuilds the cached agent, e.g. around another model for a local run."""
    global _agent, _model
    _agent, _model = None, model
    return get_agent()


def session_agent(session_id: str) -> Agent:
    """An agent resuming `session_id` from the S3 session store, on the container's model."""
    if not SESSION_ID.match(session_id):
        raise BadRequest("a session id is 1-128 letters, digits, '-' or '_'")
    get_agent()  # the model and tools, once per container
    manager = S3SessionManager(
        session_id=session_id,
        bucket=os.environ[SESSION_BUCKET_ENV],
        prefix=os.environ.get(SESSION_PREFIX_ENV, ""),
        region_name=os.environ.get("AWS_REGION"),
    )
    return build_agent(_model, load_config(), session_manager=manager, tools=_tools)


def ask(prompt: str, session_id: str | None = None) -> str:
    if session_id and os.environ.get(SESSION_BUCKET_ENV):
        agent = session_agent(session_id)
    else:
        agent = get_agent()
        # One container serves many callers: never carry one request's conversation into
        # the next.
        agent.messages.clear()
    before = metric_totals(getattr(agent, "event_loop_metrics", None))
    result = agent(prompt)
    report_metrics(before, metric_totals(getattr(result, "metrics", None)))
    return str(result).strip()


# --- metrics: one CloudWatch embedded-metric-format line per answer ----------------------
METRICS_NAMESPACE = "StrandsDeploy"
METRIC_UNITS = {
    "InputTokens": "Count",
    "OutputTokens": "Count",
    "ModelLatencyMs": "Milliseconds",
    "ToolCalls": "Count",
    "Cycles": "Count",
}


def metric_totals(metrics: Any) -> dict[str, float]:
    """The SDK's running totals (an agent's EventLoopMetrics add up across its answers):
    what is missing counts as 0, so a metric never fails an invocation."""
    if metrics is None:
        return dict.fromkeys(METRIC_UNITS, 0.0)
    usage = getattr(metrics, "accumulated_usage", None) or {}
    timing = getattr(metrics, "accumulated_metrics", None) or {}
    tools = getattr(metrics, "tool_metrics", None) or {}
    return {
        "InputTokens": _number(usage.get("inputTokens")),
        "OutputTokens": _number(usage.get("outputTokens")),
        "ModelLatencyMs": _number(timing.get("latencyMs")),
        "ToolCalls": sum(_number(getattr(t, "call_count", 0)) for t in tools.values()),
        "Cycles": _number(getattr(metrics, "cycle_count", 0)),
    }


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def metrics_line(
    values: Mapping[str, float], config: Mapping[str, Any], now_ms: int | None = None
) -> str:
    """One EMF document: CloudWatch turns the log line into metrics, no API call needed."""
    dimensions = {
        "Project": str(config.get("project") or "unknown"),
        "Stage": str(config.get("stage") or "unknown"),
        "Agent": str(config.get("name") or "unknown"),
    }
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000) if now_ms is None else now_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [{"Name": n, "Unit": u} for n, u in METRIC_UNITS.items()],
                }
            ],
        },
        **dimensions,
        **{name: values.get(name, 0.0) for name in METRIC_UNITS},
    }
    return json.dumps(document, separators=(",", ":"))


def report_metrics(before: Mapping[str, float], after: Mapping[str, float]) -> None:
    """Prints this answer's share of the totals; a metric is never worth a failed answer."""
    try:
        spent = {name: max(after.get(name, 0.0) - before.get(name, 0.0), 0.0) for name in after}
        print(metrics_line(spent, load_config()), flush=True)
    except Exception:
        logger.exception("could not report the agent's metrics")


def require_prompt(prompt: Any) -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequest('expected a non-empty "prompt" string')
    return prompt


def prompt_from_text(text: str) -> str:
    """A body is either JSON `{"prompt": "..."}` or the prompt itself as plain text."""
    return request_from_text(text)[0]


def request_from_text(text: str) -> tuple[str, str | None]:
    """(prompt, session id or None) from a JSON body, or a plain-text prompt."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        return require_prompt(data.get("prompt")), _session_id(data.get("session_id"))
    if not text.strip():
        raise BadRequest("empty prompt")
    return text, None


def _session_id(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadRequest("session_id must be a string")
    return value


def _http_response(status: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(payload),
    }


def handle_http(event: Mapping[str, Any]) -> dict[str, Any]:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    try:
        prompt, session_id = request_from_text(body)
        headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
        reply = ask(prompt, session_id or _session_id(headers.get("x-session-id")))
    except BadRequest as exc:
        return _http_response(400, {"error": str(exc)})
    except Exception:
        logger.exception("agent failed on an HTTP request")
        return _http_response(500, {"error": "the agent failed; see the function's logs"})
    return _http_response(200, {"response": reply})


def handle_sqs(event: Mapping[str, Any]) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        try:
            prompt, session_id = request_from_text(record.get("body") or "")
            attribute = (record.get("messageAttributes") or {}).get("session_id") or {}
            ask(prompt, session_id or _session_id(attribute.get("stringValue")))
        except Exception:
            logger.exception("SQS message %s failed", record.get("messageId"))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def handle_sns(event: Mapping[str, Any]) -> dict[str, Any]:
    # SNS invokes asynchronously: raising lets Lambda retry and then use the DLQ/destination.
    replies = [ask(prompt_from_text(r["Sns"].get("Message") or "")) for r in event["Records"]]
    return {"responses": replies}


def _record_source(event: Mapping[str, Any]) -> str:
    records = event.get("Records")
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        return ""
    return str(records[0].get("eventSource") or records[0].get("EventSource") or "")


def handler(event: Any, context: Any = None) -> Any:
    if not isinstance(event, dict):
        raise BadRequest(f"unsupported event of type {type(event).__name__}")
    if "requestContext" in event and "routeKey" in event:
        return handle_http(event)
    source = _record_source(event)
    if source == "aws:sqs":
        return handle_sqs(event)
    if source == "aws:sns":
        return handle_sns(event)
    if "prompt" in event:
        return ask(require_prompt(event["prompt"]), _session_id(event.get("session_id")))
    raise BadRequest('unsupported event: expected an HTTP API, SQS or SNS event or {"prompt": ...}')
