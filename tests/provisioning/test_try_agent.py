"""Talking to a deployed agent on AWS: a FunctionError is a failure, never an answer."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from provisioning import engine
from provisioning.aws import AwsContext
from provisioning.strands import try_agent
from provisioning.strands.packaging import package_code
from tests.provisioning import test_generated_handler as generated


def test_moto_s_function_error_is_reported_as_a_failure_not_an_answer(aws: AwsContext) -> None:
    # Given a function moto stores but cannot run (no Docker): invoke answers 200 + FunctionError
    role = boto3.client("iam").create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    zip_bytes = package_code(
        {"kind": "inline", "files": {"handler.py": "def handler(e, c):\n    return 'hi'\n"}}
    )
    boto3.client("lambda").create_function(
        FunctionName="acme-dev-support", Runtime="python3.12", Role=role,
        Handler="handler.handler", Code={"ZipFile": zip_bytes},
    )  # fmt: skip

    answer = try_agent.invoke(aws, "acme-dev-support", {"prompt": "hi"})

    assert not answer.ok
    assert answer.where == "aws"
    assert answer.text.startswith("the function failed")


def test_reply_text_reads_direct_and_http_replies() -> None:
    http: dict[str, Any] = {"statusCode": 200, "body": json.dumps({"response": "hello"})}

    assert try_agent._reply_text(json.dumps("plain")) == "plain"
    assert try_agent._reply_text(json.dumps(http)) == "hello"


@pytest.fixture(name="handler")
def handler_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The generated agent handler, unpacked from its package (test_generated_handler)."""
    monkeypatch.setenv("STRANDS_DEPLOY_STAND_IN_MODEL", "1")
    return generated.unpack(generated.AGENT, tmp_path)


def test_the_answer_s_tokens_are_read_from_the_handler_s_metrics_line(
    handler: ModuleType,
) -> None:
    # Given the log tail of an invoke, as Lambda returns it with LogType=Tail
    spent = {"InputTokens": 812.0, "OutputTokens": 64.0, "ToolCalls": 1.0}
    line = handler.metrics_line(spent, {"project": "acme", "stage": "dev", "name": "support"})
    tail = f"START RequestId: 1\n{line}\nEND RequestId: 1\nREPORT RequestId: 1\tDuration: 9 ms\n"
    encoded = base64.b64encode(tail.encode()).decode()

    assert try_agent.usage_in(try_agent._log_tail(encoded)) == try_agent.Usage(812, 64)
    assert try_agent.usage_in("START RequestId: 1\nEND RequestId: 1\n") is None


def test_an_answer_is_priced_by_its_model_when_the_table_knows_it() -> None:
    usage = try_agent.Usage(input_tokens=1_000_000, output_tokens=100_000)

    assert engine.answer_cost("global.anthropic.claude-sonnet-4-6", usage) == pytest.approx(4.5)
    assert engine.answer_cost("us.amazon.nova-lite-v1:0", usage) == pytest.approx(0.084)
    assert engine.answer_cost("gpt-4o", usage) is None
