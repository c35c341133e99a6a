from __future__ import annotations

import json
from typing import Any

import pytest

from provisioning.aws import AwsContext
from provisioning.errors import ProvisioningError
from provisioning.provisioners.base import Action
from provisioning.provisioners.iam import build_lambda_assume_role_policy
from provisioning.provisioners.lambda_function import (
    FunctionProvisioner,
    build_dlq_config,
    build_tracing_config,
    build_vpc_config,
    calculate_memory_for_workload,
    calculate_timeout_for_workload,
)
from provisioning.strands import packaging
from tests.provisioning.lifecycle import apply, changed, replan

LOGICAL_ID = "agent/support/function"
NAME = "acme-dev-support"
HANDLER = "def handler(event, context):\n    return {}\n"


def recipe(source: str = HANDLER) -> dict[str, Any]:
    return {"kind": "inline", "files": {"handler.py": source}}


def make_role(aws: AwsContext, name: str = "acme-dev-support-role") -> str:
    document = json.dumps(build_lambda_assume_role_policy())
    role = aws.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=document)
    return str(role["Role"]["Arn"])


def function_properties(role_arn: str, **overrides: Any) -> dict[str, Any]:
    code = overrides.pop("code", recipe())
    return {
        "name": NAME,
        "role_arn": role_arn,
        "runtime": "python3.12",
        "handler": "handler.handler",
        "architecture": "x86_64",
        "memory_mb": 1024,
        "timeout_s": 120,
        "environment": {"MODEL_ID": "global.anthropic.claude-sonnet-4-6"},
        "reserved_concurrency": None,
        "tracing": "Active",
        "layers": [],
        "code": code,
        "code_sha256": packaging.code_sha256(packaging.package_code(code)),
        **overrides,
    }


class FakeClock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# --- helpers -------------------------------------------------------------------------------


def test_dead_letter_config_accepts_queues_and_topics_only() -> None:
    assert build_dlq_config("arn:aws:sqs:us-east-1:1:dlq") == {
        "TargetArn": "arn:aws:sqs:us-east-1:1:dlq"
    }
    assert build_dlq_config(None) == {"TargetArn": ""}
    with pytest.raises(ValueError, match="SQS queue or SNS topic"):
        build_dlq_config("arn:aws:s3:::bucket")


def test_tracing_config_from_a_switch_or_a_mode() -> None:
    assert build_tracing_config(True) == {"Mode": "Active"}
    assert build_tracing_config(False) == {"Mode": "PassThrough"}
    with pytest.raises(ValueError):
        build_tracing_config("On")


def test_vpc_config_needs_subnets_and_security_groups_together() -> None:
    assert build_vpc_config(["subnet-b", "subnet-a"], ["sg-1"]) == {
        "SubnetIds": ["subnet-a", "subnet-b"],
        "SecurityGroupIds": ["sg-1"],
    }
    assert build_vpc_config([], []) == {"SubnetIds": [], "SecurityGroupIds": []}
    with pytest.raises(ValueError, match="both"):
        build_vpc_config(["subnet-a"], [])


def test_memory_grows_with_workload_and_package_size() -> None:
    assert calculate_memory_for_workload("light") == 512
    assert calculate_memory_for_workload("heavy") == 2048
    assert calculate_memory_for_workload("light", package_mb=143) == 832
    assert calculate_memory_for_workload("heavy", package_mb=5000) == 10240
    with pytest.raises(ValueError):
        calculate_memory_for_workload("huge")


def test_timeout_behind_an_http_api_is_capped_at_its_30_seconds() -> None:
    assert calculate_timeout_for_workload("heavy") == 900
    assert calculate_timeout_for_workload("heavy", behind_http_api=True) == 30
    assert calculate_timeout_for_workload("light", behind_http_api=True) == 30


# --- the function --------------------------------------------------------------------------


def test_a_created_function_plans_no_change(aws: AwsContext) -> None:
    functions = FunctionProvisioner(aws)
    wanted = function_properties(make_role(aws))

    recorded = apply(functions, LOGICAL_ID, wanted)

    assert replan(functions, wanted, recorded).action is Action.NO_CHANGE
    live = aws.client("lambda").get_function(FunctionName=NAME)
    assert live["Configuration"]["CodeSha256"] == wanted["code_sha256"]
    assert live["Tags"]["strands-deploy:logical-id"] == LOGICAL_ID
    assert recorded.outputs == {"physical_id": NAME, "name": NAME, "arn": recorded.arn}


def test_creating_again_after_a_crash_adopts_the_function(aws: AwsContext) -> None:
    functions = FunctionProvisioner(aws)
    role = make_role(aws)
    apply(functions, LOGICAL_ID, function_properties(role))

    outputs = functions.provision(LOGICAL_ID, function_properties(role, memory_mb=512), None)

    assert outputs["name"] == NAME
    assert len(aws.client("lambda").list_functions()["Functions"]) == 1
    assert (
        aws.client("lambda").get_function(FunctionName=NAME)["Configuration"]["MemorySize"] == 512
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("memory_mb", 2048),
        ("timeout_s", 30),
        ("environment", {"MODEL_ID": "other", "LOG_LEVEL": "debug"}),
        ("handler", "app.main"),
        ("runtime", "python3.13"),
        ("reserved_concurrency", 5),
        # architecture goes through update_function_code too, but moto ignores it there
    ],
)
def test_each_mutable_property_updates_in_place(aws: AwsContext, name: str, value: Any) -> None:
    functions = FunctionProvisioner(aws)
    role = make_role(aws)
    recorded = apply(functions, LOGICAL_ID, function_properties(role))
    wanted = function_properties(role, **{name: value})

    change = replan(functions, wanted, recorded)
    recorded = apply(functions, LOGICAL_ID, wanted, recorded)

    assert (change.action, changed(change)) == (Action.UPDATE, [name])
    assert replan(functions, wanted, recorded).action is Action.NO_CHANGE


def test_new_code_is_uploaded_and_reported_by_its_digest(aws: AwsContext) -> None:
    functions = FunctionProvisioner(aws)
    role = make_role(aws)
    recorded = apply(functions, LOGICAL_ID, function_properties(role))
    wanted = function_properties(role, code=recipe(HANDLER + "# v2\n"))

    change = replan(functions, wanted, recorded)
    recorded = apply(functions, LOGICAL_ID, wanted, recorded)

    assert changed(change) == ["code", "code_sha256"]
    live = aws.client("lambda").get_function(FunctionName=NAME)["Configuration"]
    assert live["CodeSha256"] == wanted["code_sha256"]
    assert replan(functions, wanted, recorded).action is Action.NO_CHANGE


def test_reserved_concurrency_is_removed_when_unset(aws: AwsContext) -> None:
    functions = FunctionProvisioner(aws)
    role = make_role(aws)
    recorded = apply(functions, LOGICAL_ID, function_properties(role, reserved_concurrency=3))

    recorded = apply(functions, LOGICAL_ID, function_properties(role), recorded)

    assert "Concurrency" not in aws.client("lambda").get_function(FunctionName=NAME)
    assert replan(functions, function_properties(role), recorded).action is Action.NO_CHANGE


def test_an_out_of_band_change_shows_in_the_plan(aws: AwsContext) -> None:
    functions = FunctionProvisioner(aws)
    wanted = function_properties(make_role(aws))
    recorded = apply(functions, LOGICAL_ID, wanted)
    aws.client("lambda").update_function_configuration(
        FunctionName=NAME, MemorySize=256, Environment={"Variables": {}}
    )

    change = replan(functions, wanted, recorded)
    apply(functions, LOGICAL_ID, wanted, recorded)

    assert changed(change) == ["memory_mb", "environment"]
    assert replan(functions, wanted, recorded).action is Action.NO_CHANGE


def test_renaming_the_function_needs_a_replacement(aws: AwsContext) -> None:
    functions = FunctionProvisioner(aws)
    role = make_role(aws)
    recorded = apply(functions, LOGICAL_ID, function_properties(role))

    change = replan(functions, function_properties(role, name="acme-dev-other"), recorded)

    assert change.action is Action.REPLACE


def test_create_waits_for_a_new_role_to_become_assumable(aws: AwsContext) -> None:
    # Real IAM takes seconds before Lambda may assume a new role; here it appears after one wait.
    functions = FunctionProvisioner(aws)
    role_arn = f"arn:aws:iam::{aws.account_id}:role/acme-dev-late"
    aws.sleep = lambda _s: make_role(aws, "acme-dev-late")

    recorded = apply(functions, LOGICAL_ID, function_properties(role_arn))

    assert recorded.physical_id == NAME


def test_a_role_that_never_appears_fails_naming_the_function(aws: AwsContext) -> None:
    functions = FunctionProvisioner(aws)
    fake = FakeClock()
    aws.sleep, aws.clock = fake.sleep, fake.clock
    missing = f"arn:aws:iam::{aws.account_id}:role/nobody"

    with pytest.raises(ProvisioningError) as raised:
        apply(functions, LOGICAL_ID, function_properties(missing))

    assert str(raised.value).startswith(
        f"creating Lambda function {NAME}: InvalidParameterValueException: The role defined"
    )
    assert 30 <= fake.now <= 60


def test_destroy_removes_the_function_and_is_safe_to_repeat(aws: AwsContext) -> None:
    functions = FunctionProvisioner(aws)
    wanted = function_properties(make_role(aws))
    recorded = apply(functions, LOGICAL_ID, wanted)

    functions.destroy(recorded)
    functions.destroy(recorded)

    assert functions.get_current_state(wanted, recorded) is None
