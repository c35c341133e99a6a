"""The deployer policy covers every call the engine makes in a project's whole life."""

from __future__ import annotations

import dataclasses
import json
import threading

import boto3
from moto import mock_aws

from provisioning import engine
from provisioning.analysis.deployer_policy import iam_action, policy_document
from provisioning.aws import AwsContext, Target
from provisioning.events import ListSink
from provisioning.model.examples import kitchen_sink
from provisioning.state import MemoryStateStore

IAM_MANAGED_POLICY_LIMIT = 6144
"""Characters, whitespace not counted."""


class NeededActions:
    """The IAM action of every API call made (botocore's before-call event)."""

    def __init__(self) -> None:
        self.actions: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, model: object, **_: object) -> None:
        service = model.service_model.service_name  # type: ignore[attr-defined]
        action = iam_action(service, model.name, model.http["method"])  # type: ignore[attr-defined]
        if action is not None:
            with self._lock:
                self.actions.add(action)


def allowed() -> set[str]:
    (engine_statement, pass_role) = policy_document()["Statement"]
    return {*engine_statement["Action"], pass_role["Action"]}


def test_every_call_of_plan_deploy_update_refresh_and_destroy_is_allowed() -> None:
    needed = NeededActions()
    blueprint = kitchen_sink(project="acme")
    researcher, worker = blueprint.agents
    changed = dataclasses.replace(
        blueprint, agents=(dataclasses.replace(researcher, memory_mb=2048), worker)
    )
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        session.events.register("before-call", needed)
        aws = AwsContext(
            target=Target(region="us-east-1"),
            project="acme",
            stage="dev",
            session=session,
            sleep=lambda _s: None,
        )
        store = MemoryStateStore()

        def lost_state() -> engine.RunResult:
            return engine.deploy(changed, store, ListSink(), aws)

        for run in (
            lambda: engine.deploy(blueprint, store, ListSink(), aws),
            lost_state,
            lambda: engine.refresh(store, ListSink(), aws),
            lambda: engine.destroy(store, ListSink(), aws),
        ):
            result = run()
            assert result.status == "SUCCEEDED", result.error
            if run is lost_state:
                # a plan without the state: each resource is found by name, its tags read
                lost = engine.plan(changed, MemoryStateStore(), aws)
                assert lost.problems == []
                adopted = {c.resource_type for c in lost.changes if c.adopt}
                assert {
                    "iam:role", "logs:log-group", "lambda:function", "s3:bucket",
                    "dynamodb:table", "sqs:queue", "sns:topic", "apigw:api", "ec2:vpc",
                } <= adopted  # fmt: skip

    assert "lambda:UpdateFunctionConfiguration" in needed.actions  # the update pass ran
    assert needed.actions - allowed() == set()


def test_the_policy_fits_one_managed_policy_and_passes_roles_to_lambda_only() -> None:
    document = policy_document()

    assert len("".join(json.dumps(document).split())) <= IAM_MANAGED_POLICY_LIMIT
    pass_role = document["Statement"][1]
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}
    }
    actions = [a for s in document["Statement"] for a in _as_list(s["Action"])]
    assert actions and not any("*" in a for a in actions)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value
