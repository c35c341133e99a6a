from __future__ import annotations

import json
from typing import Any

import pytest

from provisioning.aws import AwsContext
from provisioning.provisioners.base import Action
from provisioning.provisioners.iam import build_lambda_assume_role_policy
from provisioning.provisioners.lambda_events import (
    EventSourceMappingProvisioner,
    PermissionProvisioner,
    function_name_of,
)
from provisioning.strands import packaging
from tests.provisioning.lifecycle import apply, changed, replan

FUNCTION = "acme-dev-support"
API_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/*/*/support/{proxy+}"


@pytest.fixture
def function_arn(aws: AwsContext) -> str:
    trust = json.dumps(build_lambda_assume_role_policy())
    role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=trust)["Role"]
    zipped = packaging.package_code({"kind": "inline", "files": {"handler.py": "x = 1\n"}})
    made = aws.client("lambda").create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": zipped},
    )
    return str(made["FunctionArn"])


@pytest.fixture
def queue_arn(aws: AwsContext) -> str:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="acme-dev-jobs")["QueueUrl"]
    return str(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    )


def permission_properties(**overrides: Any) -> dict[str, Any]:
    return {
        "function_name": FUNCTION,
        "statement_id": "http-api-public",
        "action": "lambda:InvokeFunction",
        "principal": "apigateway.amazonaws.com",
        "source_arn": API_ARN,
        **overrides,
    }


def mapping_properties(queue_arn: str, **overrides: Any) -> dict[str, Any]:
    return {
        "function_name": FUNCTION,
        "event_source_arn": queue_arn,
        "batch_size": 5,
        "maximum_batching_window_s": 1,
        "enabled": True,
        "report_batch_item_failures": True,
        **overrides,
    }


def statement_ids(aws: AwsContext) -> list[str]:
    policy = json.loads(aws.client("lambda").get_policy(FunctionName=FUNCTION)["Policy"])
    return [s["Sid"] for s in policy["Statement"]]


def test_function_name_of_an_arn_or_a_name() -> None:
    assert function_name_of("arn:aws:lambda:us-east-1:1:function:f") == "f"
    assert function_name_of("arn:aws:lambda:us-east-1:1:function:f:live") == "f"
    assert function_name_of("f") == "f"


# --- lambda:permission ---------------------------------------------------------------------


@pytest.mark.usefixtures("function_arn")
def test_a_permission_is_added_once_and_plans_no_change(aws: AwsContext) -> None:
    permissions = PermissionProvisioner(aws)

    recorded = apply(permissions, "perm", permission_properties())
    again = permissions.provision("perm", permission_properties(), None)

    assert recorded.physical_id == f"{FUNCTION}/http-api-public"
    assert again == recorded.outputs
    assert statement_ids(aws) == ["http-api-public"]
    assert replan(permissions, permission_properties(), recorded).action is Action.NO_CHANGE


@pytest.mark.usefixtures("function_arn")
def test_an_account_principal_reads_back_as_given(aws: AwsContext) -> None:
    permissions = PermissionProvisioner(aws)
    wanted = permission_properties(principal=aws.account_id, source_arn=None)

    recorded = apply(permissions, "perm", wanted)

    assert replan(permissions, wanted, recorded).action is Action.NO_CHANGE


@pytest.mark.usefixtures("function_arn")
def test_a_changed_source_is_applied_by_re_adding_the_statement(aws: AwsContext) -> None:
    permissions = PermissionProvisioner(aws)
    recorded = apply(permissions, "perm", permission_properties())
    wanted = permission_properties(source_arn=API_ARN.replace("abc123", "xyz789"))

    change = replan(permissions, wanted, recorded)
    recorded = apply(permissions, "perm", wanted, recorded)

    assert (change.action, changed(change)) == (Action.UPDATE, ["source_arn"])
    assert replan(permissions, wanted, recorded).action is Action.NO_CHANGE
    assert statement_ids(aws) == ["http-api-public"]


@pytest.mark.usefixtures("function_arn")
def test_a_permission_removed_out_of_band_is_planned_again(aws: AwsContext) -> None:
    permissions = PermissionProvisioner(aws)
    recorded = apply(permissions, "perm", permission_properties())
    aws.client("lambda").remove_permission(FunctionName=FUNCTION, StatementId="http-api-public")

    assert replan(permissions, permission_properties(), recorded).action is Action.CREATE


@pytest.mark.usefixtures("function_arn")
def test_destroying_a_permission_is_safe_to_repeat_and_after_the_function(aws: AwsContext) -> None:
    permissions = PermissionProvisioner(aws)
    recorded = apply(permissions, "perm", permission_properties())

    permissions.destroy(recorded)
    permissions.destroy(recorded)
    aws.client("lambda").delete_function(FunctionName=FUNCTION)
    permissions.destroy(recorded)

    assert permissions.get_current_state(permission_properties(), recorded) is None


# --- lambda:event-source-mapping -----------------------------------------------------------


@pytest.mark.usefixtures("function_arn")
def test_a_mapping_is_found_again_instead_of_twinned(aws: AwsContext, queue_arn: str) -> None:
    mappings = EventSourceMappingProvisioner(aws)
    wanted = mapping_properties(queue_arn)

    recorded = apply(mappings, "esm", wanted)
    adopted = replan(mappings, wanted, None)
    again = apply(mappings, "esm", wanted)

    assert replan(mappings, wanted, recorded).action is Action.NO_CHANGE
    assert (adopted.action, adopted.adopt) == (Action.NO_CHANGE, True)
    assert again.physical_id == recorded.physical_id
    listed = aws.client("lambda").list_event_source_mappings(FunctionName=FUNCTION)
    assert len(listed["EventSourceMappings"]) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("batch_size", 10),
        ("maximum_batching_window_s", 0),
        ("enabled", False),
        ("report_batch_item_failures", False),
    ],
)
@pytest.mark.usefixtures("function_arn")
def test_each_mapping_setting_updates_in_place(
    aws: AwsContext, queue_arn: str, name: str, value: Any
) -> None:
    mappings = EventSourceMappingProvisioner(aws)
    recorded = apply(mappings, "esm", mapping_properties(queue_arn))
    wanted = mapping_properties(queue_arn, **{name: value})

    change = replan(mappings, wanted, recorded)
    recorded = apply(mappings, "esm", wanted, recorded)

    assert (change.action, changed(change)) == (Action.UPDATE, [name])
    assert replan(mappings, wanted, recorded).action is Action.NO_CHANGE


def test_a_mapping_by_function_arn_reads_back_as_given(
    aws: AwsContext, function_arn: str, queue_arn: str
) -> None:
    mappings = EventSourceMappingProvisioner(aws)
    wanted = mapping_properties(queue_arn, function_name=function_arn)

    recorded = apply(mappings, "esm", wanted)

    assert replan(mappings, wanted, recorded).action is Action.NO_CHANGE


@pytest.mark.usefixtures("function_arn")
def test_an_out_of_band_batch_size_shows_in_the_plan(aws: AwsContext, queue_arn: str) -> None:
    mappings = EventSourceMappingProvisioner(aws)
    recorded = apply(mappings, "esm", mapping_properties(queue_arn))
    aws.client("lambda").update_event_source_mapping(UUID=recorded.physical_id, BatchSize=1)

    change = replan(mappings, mapping_properties(queue_arn), recorded)

    assert changed(change) == ["batch_size"]
    assert (change.changes[0].old, change.changes[0].new) == (1, 5)


@pytest.mark.usefixtures("function_arn")
def test_a_new_event_source_needs_a_replacement(aws: AwsContext, queue_arn: str) -> None:
    mappings = EventSourceMappingProvisioner(aws)
    recorded = apply(mappings, "esm", mapping_properties(queue_arn))

    change = replan(mappings, mapping_properties(queue_arn + "-2"), recorded)

    assert change.action is Action.REPLACE


@pytest.mark.usefixtures("function_arn")
def test_destroying_a_mapping_is_safe_to_repeat(aws: AwsContext, queue_arn: str) -> None:
    mappings = EventSourceMappingProvisioner(aws)
    recorded = apply(mappings, "esm", mapping_properties(queue_arn))

    mappings.destroy(recorded)
    mappings.destroy(recorded)

    assert mappings.get_current_state(mapping_properties(queue_arn), recorded) is None
