"""Scenario fixtures: the fault proxy in front of the sandbox, and a ~20-resource project.

The proxy (tests/support/faultproxy.py) runs in the test process; a worker in another
process reaches the sandbox only through it (SANDBOX_ENDPOINT_URL points at the proxy),
so faults reach it too, and the test steers them through the proxy's profile.
Inventories are taken from the sandbox directly, never through the proxy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from provisioning.aws import AwsContext, Target
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from tests.support.faultproxy import FaultProxy

PROJECT = "rely"
CREATE_ACTIONS = (
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "logs:CreateLogGroup",
    "lambda:CreateFunction",
    "lambda:AddPermission",
    "lambda:CreateEventSourceMapping",
    "apigatewayv2:CreateApi",
    "apigatewayv2:CreateIntegration",
    "apigatewayv2:CreateRoute",
    "apigatewayv2:CreateStage",
    "s3:CreateBucket",
    "sqs:CreateQueue",
    "sns:CreateTopic",
    "sns:Subscribe",
    "dynamodb:CreateTable",
)
"""Every create the project below makes."""


def blueprint(project: str = PROJECT) -> Blueprint:
    """23 resources of 15 kinds: two agents behind an HTTP API, a bucket, a table, and a
    topic fanning out to a queue that triggers an agent."""
    return Blueprint(
        project=project,
        stage="dev",
        agents=(Agent("support"), Agent("billing")),
        components=(
            Component("http_api", "public"),
            Component("bucket", "docs"),
            Component("queue", "jobs", {"visibility_timeout_s": 720}),
            Component("table", "notes"),
            Component("topic", "alerts"),
        ),
        links=(
            Link("http_api:public", "agent:support"),
            Link("http_api:public", "agent:billing"),
            Link("agent:support", "bucket:docs", "read"),
            Link("queue:jobs", "agent:billing"),
            Link("agent:billing", "table:notes"),
            Link("topic:alerts", "queue:jobs"),
        ),
        settings={"dependencies": "none"},  # no pip-built layer: the scenarios are about AWS
    )


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


@pytest.fixture
def proxy(sandbox: str, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """The fault proxy in front of an empty sandbox; settings and child processes use it."""
    running = FaultProxy(sandbox).start()
    settings.SANDBOX_ENDPOINT_URL = running.endpoint_url
    monkeypatch.setenv("SANDBOX_ENDPOINT_URL", running.endpoint_url)
    try:
        yield running
    finally:
        running.stop()


def engine_aws(proxy: FaultProxy, project: str = PROJECT, **target: Any) -> AwsContext:
    return AwsContext(
        target=Target(endpoint_url=proxy.endpoint_url, **target), project=project, stage="dev"
    )


def lost_reply_on_first_call_of_each_create() -> dict[str, Any]:
    return {
        "faults": [
            {"action": a, "kind": "server_error", "after": True, "count": 1} for a in CREATE_ACTIONS
        ]
    }


def slow_writes(seconds: float) -> dict[str, Any]:
    return {"defaults": {"write": seconds, "read": 0.0}}


def scenario_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "SANDBOX_"))}
