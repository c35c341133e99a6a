"""The generated agent handler, unzipped from its package and run locally with Strands."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import sys
import uuid
import zipfile
from collections.abc import AsyncGenerator, AsyncIterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from strands.models import BedrockModel
from strands.models.model import Model

from provisioning.strands.packaging import package_code

AGENT = {
    "name": "support",
    "model_id": "global.anthropic.claude-sonnet-4-6",
    "system_prompt": "You answer support questions.",
    "tools": [],
    "region": "eu-west-1",
    "max_tokens": 2048,
    "temperature": 0.2,
}


def unpack(agent: dict[str, Any], into: Path) -> ModuleType:
    """Unzips the function package and imports its handler.py as a fresh module."""
    zip_bytes = package_code({"kind": "generated", "agent": agent})
    zipfile.ZipFile(io.BytesIO(zip_bytes)).extractall(into)
    name = f"generated_handler_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, into / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("STRANDS_DEPLOY_STAND_IN_MODEL", "1")
    yield unpack(AGENT, tmp_path)


class FailOnBoom(Model):
    """A test model: fails when the prompt mentions "boom", otherwise says "ok"."""

    def update_config(self, **model_config: Any) -> None:
        pass

    def get_config(self) -> dict[str, Any]:
        return {}

    async def structured_output(
        self, output_model: Any, prompt: Any, system_prompt: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[Any, None]:
        raise NotImplementedError
        yield

    async def stream(
        self, messages: Any, tool_specs: Any = None, system_prompt: Any = None, **kwargs: Any
    ) -> AsyncIterable[Any]:
        if "boom" in json.dumps(messages):
            raise RuntimeError("model exploded")
        yield {"messageStart": {"role": "assistant"}}
        yield {"contentBlockDelta": {"delta": {"text": "ok"}}}
        yield {"contentBlockStop": {}}
        yield {"messageStop": {"stopReason": "end_turn"}}


def http_event(body: str, *, base64_encoded: bool = False) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "POST /ask",
        "rawPath": "/ask",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": "/ask"}},
        "body": base64.b64encode(body.encode()).decode() if base64_encoded else body,
        "isBase64Encoded": base64_encoded,
    }


def sqs_record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "body": body,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:acme-dev-jobs",
    }


def sns_event(message: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {"Message": message, "TopicArn": "arn:aws:sns:eu-west-1:1:acme-dev-news"},
            }
        ]
    }


def test_http_api_request_with_json_prompt_gets_the_agents_reply(handler: ModuleType) -> None:
    # When an HTTP API v2 request carries {"prompt": ...}
    response = handler.handler(http_event(json.dumps({"prompt": "where is my order?"})), None)

    # Then it answers 200 with the agent's text as JSON
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert json.loads(response["body"]) == {"response": "stand-in reply: where is my order?"}


def test_http_api_request_with_plain_text_or_base64_body_is_the_prompt(handler: ModuleType) -> None:
    plain = handler.handler(http_event("hello there"), None)
    encoded = handler.handler(http_event("hi again", base64_encoded=True), None)

    assert json.loads(plain["body"]) == {"response": "stand-in reply: hello there"}
    assert json.loads(encoded["body"]) == {"response": "stand-in reply: hi again"}


def test_http_api_request_without_a_prompt_is_a_400(handler: ModuleType) -> None:
    response = handler.handler(http_event(json.dumps({"question": "?"})), None)

    assert response["statusCode"] == 400
    assert "prompt" in json.loads(response["body"])["error"]


def test_sqs_batch_reports_only_the_bad_record_as_failed(handler: ModuleType) -> None:
    # Given a batch with two good messages and one without a prompt
    event = {
        "Records": [
            sqs_record("m-1", json.dumps({"prompt": "summarise ticket 1"})),
            sqs_record("m-2", json.dumps({"not_a_prompt": True})),
            sqs_record("m-3", "plain text prompt"),
        ]
    }

    # When the handler processes it
    result = handler.handler(event, None)

    # Then only the bad message goes back to the queue
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}


def test_agent_failures_are_reported_per_record_and_as_http_500(handler: ModuleType) -> None:
    # Given an agent whose model fails on some prompts
    handler.reset_agent(FailOnBoom())

    batch = {"Records": [sqs_record("a", "fine"), sqs_record("b", "boom")]}
    assert handler.handler(batch, None) == {"batchItemFailures": [{"itemIdentifier": "b"}]}

    response = handler.handler(http_event("boom"), None)
    assert response["statusCode"] == 500
    assert "exploded" not in response["body"]  # internals stay in the logs


def test_sns_notification_message_is_the_prompt(handler: ModuleType) -> None:
    result = handler.handler(sns_event("new release shipped"), None)

    assert result == {"responses": ["stand-in reply: new release shipped"]}


def test_direct_invoke_returns_the_agents_text(handler: ModuleType) -> None:
    assert handler.handler({"prompt": "ping"}, None) == "stand-in reply: ping"


def test_unknown_event_shapes_are_refused(handler: ModuleType) -> None:
    with pytest.raises(ValueError, match="unsupported event"):
        handler.handler({"detail-type": "Scheduled Event"}, None)


def test_agent_is_built_once_per_container_and_forgets_earlier_requests(
    handler: ModuleType,
) -> None:
    handler.handler({"prompt": "first"}, None)
    agent = handler.get_agent()
    handler.handler({"prompt": "second"}, None)

    assert handler.get_agent() is agent
    # One caller's conversation never reaches the next caller's model call
    assert [m["role"] for m in agent.messages] == ["user", "assistant"]
    assert "first" not in json.dumps(agent.messages)


def test_without_stand_in_the_agent_uses_bedrock_with_the_configured_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a packaged handler and no stand-in setting
    monkeypatch.delenv("STRANDS_DEPLOY_STAND_IN_MODEL", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-west-2")  # must not win over the configured region
    module = unpack(AGENT, tmp_path)

    # When the agent is built (no AWS call happens until it is asked something)
    agent = module.get_agent()

    # Then it talks to Bedrock with the configured model, region and settings
    assert isinstance(agent.model, BedrockModel)
    config = agent.model.get_config()
    assert config["model_id"] == "global.anthropic.claude-sonnet-4-6"
    assert config["max_tokens"] == 2048
    assert config["temperature"] == 0.2
    assert agent.model.client.meta.region_name == "eu-west-1"
    assert agent.system_prompt == "You answer support questions."


def test_configured_tools_are_loaded_and_missing_ones_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a team tool module importable by a dotted path
    monkeypatch.setenv("STRANDS_DEPLOY_STAND_IN_MODEL", "1")
    package = f"team_tools_{uuid.uuid4().hex}"
    (tmp_path / "lib" / package).mkdir(parents=True)
    (tmp_path / "lib" / package / "__init__.py").write_text("")
    (tmp_path / "lib" / package / "orders.py").write_text(
        "from strands import tool\n\n\n"
        "@tool\ndef order_status(order_id: str) -> str:\n"
        '    """Look up an order."""\n    return "shipped"\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))

    # When agents are configured with it, and with a tool that is not installed
    with_tool = unpack({**AGENT, "tools": [f"{package}.orders"]}, tmp_path / "a")
    missing = unpack({**AGENT, "tools": ["no_such_tool"]}, tmp_path / "b")

    # Then the first agent can call it and the second fails naming the tool
    assert with_tool.get_agent().tool_names == ["order_status"]
    with pytest.raises(RuntimeError, match="'no_such_tool' is not installed"):
        missing.get_agent()
    for name in [m for m in sys.modules if m.startswith(package)]:
        del sys.modules[name]


# --- conversation sessions --------------------------------------------------------------------


@pytest.fixture
def session_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto bucket that the handler's S3SessionManager keeps conversations in."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="acme-dev-chats")
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        monkeypatch.setenv("STRANDS_DEPLOY_SESSION_BUCKET", "acme-dev-chats")
        monkeypatch.setenv("STRANDS_DEPLOY_SESSION_PREFIX", "sessions/support/")
        yield boto3.client("s3", region_name="us-east-1")


def test_a_named_session_is_resumed_from_s3_with_the_configured_model(
    handler: ModuleType, session_store: Any
) -> None:
    # Given two turns of one conversation, through different ways in
    handler.handler(http_event(json.dumps({"prompt": "my order is 42", "session_id": "c-1"})), None)
    handler.handler(
        {"Records": [{**sqs_record("m-1", "where is it?"),
                      "messageAttributes": {"session_id": {"stringValue": "c-1"}}}]},
        None,
    )  # fmt: skip

    # When a third turn resumes it in a fresh agent
    agent = handler.session_agent("c-1")

    # Then the history is there, under the agent's prefix, and the model is still ours
    texts = [block["text"] for m in agent.messages for block in m["content"]]
    assert texts == [
        "my order is 42",
        "stand-in reply: my order is 42",
        "where is it?",
        "stand-in reply: where is it?",
    ]
    assert isinstance(agent.model, handler.StandInModel)  # not the SDK's default model
    keys = [o["Key"] for o in session_store.list_objects_v2(Bucket="acme-dev-chats")["Contents"]]
    assert all(k.startswith("sessions/support/session_c-1/") for k in keys)


def test_without_a_session_id_nothing_is_stored(handler: ModuleType, session_store: Any) -> None:
    handler.handler({"prompt": "hello"}, None)

    assert "Contents" not in session_store.list_objects_v2(Bucket="acme-dev-chats")


def test_a_malformed_session_id_is_the_callers_mistake(
    handler: ModuleType, session_store: Any
) -> None:
    response = handler.handler(
        http_event("hi", base64_encoded=False) | {"headers": {"X-Session-Id": "../etc"}}, None
    )

    assert response["statusCode"] == 400
    assert "session id" in json.loads(response["body"])["error"]


# --- metrics ------------------------------------------------------------------------------------
class MeteredModel(Model):
    """A test model that reports 11 input and 7 output tokens and 42 ms per answer."""

    def update_config(self, **model_config: Any) -> None:
        pass

    def get_config(self) -> dict[str, Any]:
        return {}

    async def structured_output(
        self, output_model: Any, prompt: Any, system_prompt: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[Any, None]:
        raise NotImplementedError
        yield

    async def stream(
        self, messages: Any, tool_specs: Any = None, system_prompt: Any = None, **kwargs: Any
    ) -> AsyncIterable[Any]:
        yield {"messageStart": {"role": "assistant"}}
        yield {"contentBlockDelta": {"delta": {"text": "ok"}}}
        yield {"contentBlockStop": {}}
        yield {"messageStop": {"stopReason": "end_turn"}}
        usage = {"inputTokens": 11, "outputTokens": 7, "totalTokens": 18}
        yield {"metadata": {"usage": usage, "metrics": {"latencyMs": 42}}}


def emf_lines(output: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line]


def test_each_answer_prints_one_emf_line_with_its_own_tokens_and_latency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an agent packaged for project acme, stage dev, on a model that reports usage
    handler = unpack({**AGENT, "project": "acme", "stage": "dev"}, tmp_path)
    handler.reset_agent(MeteredModel())
    capsys.readouterr()

    # When it answers twice (the container's agent is reused)
    handler.handler({"prompt": "one"}, None)
    handler.handler({"prompt": "two"}, None)

    # Then each answer prints one valid EMF document, with that answer's figures only
    first, second = emf_lines(capsys.readouterr().out)
    directive = first["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "StrandsDeploy"
    assert directive["Dimensions"] == [["Project", "Stage", "Agent"]]
    assert {m["Name"] for m in directive["Metrics"]} == {
        "InputTokens", "OutputTokens", "ModelLatencyMs", "ToolCalls", "Cycles",
    }  # fmt: skip
    assert isinstance(first["_aws"]["Timestamp"], int)
    assert (first["Project"], first["Stage"], first["Agent"]) == ("acme", "dev", "support")
    for line in (first, second):
        # EMF: every metric and dimension named in the directive is a member of the document
        assert all(isinstance(line[m["Name"]], int | float) for m in directive["Metrics"])
        assert (line["InputTokens"], line["OutputTokens"]) == (11, 7)
        assert (line["ModelLatencyMs"], line["Cycles"], line["ToolCalls"]) == (42, 1, 0)


def test_metrics_the_sdk_does_not_give_count_as_zero_and_never_fail_the_answer(
    handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # The stand-in model reports no usage at all
    assert handler.handler({"prompt": "hi"}, None) == "stand-in reply: hi"

    (line,) = emf_lines(capsys.readouterr().out)
    assert (line["InputTokens"], line["OutputTokens"], line["ModelLatencyMs"]) == (0, 0, 0)
    assert line["Project"] == "unknown"  # packaged without a project: still a valid line
    assert handler.metric_totals(object())["Cycles"] == 0
