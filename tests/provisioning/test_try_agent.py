"""Talking to a deployed agent on AWS: a FunctionError is a failure, never an answer."""

from __future__ import annotations

import json
from typing import Any

import boto3

from provisioning.aws import AwsContext
from provisioning.strands import try_agent
from provisioning.strands.packaging import package_code


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
