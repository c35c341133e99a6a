"""Lambda entry point for one Strands agent, packaged by Strands Deploy as `handler.py`.

The agent is described by `agent_config.json` beside this file and built once per
container. One handler answers every way the graph can wire an agent:

- an API Gateway HTTP API (payload v2) request: body `{"prompt": ...}` or plain text;
- an SQS batch: each message body is a prompt; failed messages are reported in
  `batchItemFailures` so only they return to the queue;
- an SNS notification: each message is a prompt;
- a direct invoke `{"prompt": ...}`: returns the agent's text.

Set STRANDS_DEPLOY_STAND_IN_MODEL=1 to answer with a local echo model instead of Bedrock
(sandbox runs and local tests); `build_agent(model=...)` accepts any Strands model.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
from collections.abc import AsyncGenerator, AsyncIterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from strands import Agent
from strands.models import BedrockModel
from strands.models.model import Model
from strands.types.content import Messages
from strands.types.streaming import StreamEvent
from strands.types.tools import ToolSpec

CONFIG_PATH = Path(__file__).with_name("agent_config.json")
STAND_IN_ENV = "STRANDS_DEPLOY_STAND_IN_MODEL"

logger = logging.getLogger("strands_deploy.handler")
logger.setLevel(logging.INFO)

T = TypeVar("T")

_agent: Agent | None = None


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


def load_tool(name: str) -> ModuleType:
    """A strands-agents-tools name ("calculator") or a dotted module path."""
    module = name if "." in name else f"strands_tools.{name}"
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(f"tool {name!r} is not installed (import {module}): {exc}") from exc


def build_agent(model: Model | None = None, config: Mapping[str, Any] | None = None) -> Agent:
    config = load_config() if config is None else config
    if model is None:
        model = StandInModel() if os.environ.get(STAND_IN_ENV) == "1" else bedrock_model(config)
    return Agent(
        model=model,
        name=config["name"],
        system_prompt=config.get("system_prompt") or None,
        tools=[load_tool(name) for name in config.get("tools", [])],
        callback_handler=None,  # the default handler prints every token to the logs
    )


def get_agent() -> Agent:
    global _agent
    if _agent is None:
        _agent = build_agent()
    return _agent


def reset_agent(model: Model | None = None) -> Agent:
    """Rebuilds the cached agent, e.g. around another model for a local run."""
    global _agent
    _agent = build_agent(model)
    return _agent


def ask(prompt: str) -> str:
    agent = get_agent()
    # One container serves many callers: never carry one request's conversation into the next.
    agent.messages.clear()
    return str(agent(prompt)).strip()


def require_prompt(prompt: Any) -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequest('expected a non-empty "prompt" string')
    return prompt


def prompt_from_text(text: str) -> str:
    """A body is either JSON `{"prompt": "..."}` or the prompt itself as plain text."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        return require_prompt(data.get("prompt"))
    if not text.strip():
        raise BadRequest("empty prompt")
    return text


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
        prompt = prompt_from_text(body)
    except BadRequest as exc:
        return _http_response(400, {"error": str(exc)})
    try:
        return _http_response(200, {"response": ask(prompt)})
    except Exception:
        logger.exception("agent failed on an HTTP request")
        return _http_response(500, {"error": "the agent failed; see the function's logs"})


def handle_sqs(event: Mapping[str, Any]) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        try:
            ask(prompt_from_text(record.get("body") or ""))
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
        return ask(require_prompt(event["prompt"]))
    raise BadRequest('unsupported event: expected an HTTP API, SQS or SNS event or {"prompt": ...}')
