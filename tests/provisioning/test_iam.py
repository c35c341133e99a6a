from __future__ import annotations

import json
from typing import Any

import pytest

from provisioning.aws import AwsContext, Target
from provisioning.errors import ProvisioningError
from provisioning.model.policy_documents import (
    add_vpc_execution_permissions,
    build_shared_execution_role_policy,
    split_policy,
)
from provisioning.provisioners.base import Action
from provisioning.provisioners.iam import (
    RoleProvisioner,
    build_lambda_assume_role_policy,
    build_policy_from_permissions,
)
from provisioning.state import RecordedResource
from tests.provisioning.lifecycle import apply, changed, replan
from tests.support.faultproxy import FaultProxy

LOGICAL_ID = "agent/support/role"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/acme-dev-orders"
BUCKET = "arn:aws:s3:::acme-dev-docs/*"


def read_policy(resources: list[str]) -> dict[str, Any]:
    return build_policy_from_permissions([{"actions": ["s3:GetObject"], "resources": resources}])


def role_properties(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "acme-dev-support",
        "description": "Execution role of agent support",
        "assume_role_policy": build_lambda_assume_role_policy(),
        "inline_policies": {"access": read_policy([BUCKET])},
        "managed_policy_arns": [],
        "permissions_boundary": None,
        **overrides,
    }


def customer_policy(aws: AwsContext, name: str) -> str:
    document = read_policy(["*"])
    iam = aws.client("iam")
    return str(
        iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    )


# --- helpers -------------------------------------------------------------------------------


def test_assume_role_policy_lets_only_lambda_assume_the_role() -> None:
    statement = build_lambda_assume_role_policy()["Statement"][0]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"


def test_permissions_with_the_same_actions_share_one_statement() -> None:
    policy = build_policy_from_permissions(
        [
            {"actions": ["dynamodb:GetItem", "dynamodb:PutItem"], "resources": [TABLE]},
            {"actions": ["dynamodb:PutItem", "dynamodb:GetItem"], "resources": [TABLE + "2"]},
            {"actions": ["s3:GetObject"], "resources": [BUCKET]},
        ]
    )
    assert policy["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
            "Resource": [TABLE, TABLE + "2"],
        },
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [BUCKET]},
    ]


def test_a_wildcard_resource_is_dropped_when_arns_are_known() -> None:
    policy = build_policy_from_permissions(
        [
            {"actions": ["sqs:SendMessage"], "resources": ["*"]},
            {"actions": ["sqs:SendMessage"], "resources": ["arn:aws:sqs:us-east-1:1:q"]},
        ]
    )
    assert policy["Statement"][0]["Resource"] == ["arn:aws:sqs:us-east-1:1:q"]


@pytest.mark.parametrize("action", ["*", "s3:*"])
def test_wildcard_actions_are_refused(action: str) -> None:
    with pytest.raises(ValueError, match="wildcard"):
        build_policy_from_permissions([{"actions": [action], "resources": [BUCKET]}])


def test_shared_role_policy_merges_and_deduplicates_agents_statements() -> None:
    conditional = {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    }
    first = {
        "Version": "2012-10-17",
        "Statement": [*read_policy([BUCKET])["Statement"], conditional],
    }
    second = {
        "Version": "2012-10-17",
        "Statement": [*read_policy([TABLE])["Statement"], conditional],
    }

    merged = build_shared_execution_role_policy([first, second, first])

    assert merged["Statement"] == [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": sorted([BUCKET, TABLE])},
        conditional,
    ]


def test_vpc_permissions_are_added_once() -> None:
    policy = add_vpc_execution_permissions(add_vpc_execution_permissions(read_policy([BUCKET])))
    eni = [s for s in policy["Statement"] if "ec2:CreateNetworkInterface" in s["Action"]]
    assert len(eni) == 1
    assert len(policy["Statement"]) == 2


def test_a_policy_over_the_limit_is_split_into_documents_that_fit() -> None:
    permissions = [
        {"actions": [f"s3:Action{i}"], "resources": [f"arn:aws:s3:::bucket-{i}-{'x' * 40}/*"]}
        for i in range(300)
    ]
    document = build_policy_from_permissions(permissions)

    parts = split_policy(document)

    assert len(parts) > 1
    assert all(len(json.dumps(p, separators=(",", ":"))) <= 10240 for p in parts)
    assert [s for p in parts for s in p["Statement"]] == document["Statement"]
    assert split_policy(read_policy([BUCKET])) == [read_policy([BUCKET])]


# --- the role ------------------------------------------------------------------------------


def test_a_created_role_plans_no_change_and_carries_our_tags(aws: AwsContext) -> None:
    roles = RoleProvisioner(aws)
    recorded = apply(roles, LOGICAL_ID, role_properties())

    assert replan(roles, role_properties(), recorded).action is Action.NO_CHANGE
    assert recorded.arn.endswith(":role/acme-dev-support")
    tags = aws.client("iam").list_role_tags(RoleName="acme-dev-support")["Tags"]
    assert {"Key": "strands-deploy:logical-id", "Value": LOGICAL_ID} in tags


def test_creating_again_after_a_crash_adopts_the_role(aws: AwsContext) -> None:
    roles = RoleProvisioner(aws)
    apply(roles, LOGICAL_ID, role_properties())

    change = replan(roles, role_properties(), None)
    outputs = roles.provision(LOGICAL_ID, role_properties(), None)

    assert change.action is Action.NO_CHANGE and change.adopt
    assert outputs["name"] == "acme-dev-support"
    assert len(aws.client("iam").list_roles()["Roles"]) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("description", "Shared role"),
        (
            "assume_role_policy",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {
                            "Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]
                        },
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
        ),
        ("inline_policies", {"access": read_policy([TABLE])}),
        ("inline_policies", {"access": read_policy([BUCKET]), "more": read_policy([TABLE])}),
        ("inline_policies", {}),
    ],
)
def test_each_mutable_property_updates_in_place(aws: AwsContext, name: str, value: Any) -> None:
    roles = RoleProvisioner(aws)
    recorded = apply(roles, LOGICAL_ID, role_properties())
    wanted = role_properties(**{name: value})

    change = replan(roles, wanted, recorded)
    recorded = apply(roles, LOGICAL_ID, wanted, recorded)

    assert (change.action, changed(change)) == (Action.UPDATE, [name])
    assert replan(roles, wanted, recorded).action is Action.NO_CHANGE


def test_managed_policies_and_boundary_attach_and_detach(aws: AwsContext) -> None:
    roles = RoleProvisioner(aws)
    first, second = customer_policy(aws, "first"), customer_policy(aws, "second")
    recorded = apply(roles, LOGICAL_ID, role_properties(managed_policy_arns=[first]))
    wanted = role_properties(managed_policy_arns=[second], permissions_boundary=first)

    change = replan(roles, wanted, recorded)
    recorded = apply(roles, LOGICAL_ID, wanted, recorded)

    assert changed(change) == ["managed_policy_arns", "permissions_boundary"]
    attached = aws.client("iam").list_attached_role_policies(RoleName="acme-dev-support")
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [second]
    assert replan(roles, wanted, recorded).action is Action.NO_CHANGE
    back = role_properties()
    apply(roles, LOGICAL_ID, back, recorded)
    assert replan(roles, back, recorded).action is Action.NO_CHANGE


def test_an_out_of_band_policy_shows_in_the_plan(aws: AwsContext) -> None:
    roles = RoleProvisioner(aws)
    recorded = apply(roles, LOGICAL_ID, role_properties())
    aws.client("iam").put_role_policy(
        RoleName="acme-dev-support",
        PolicyName="sneaky",
        PolicyDocument=json.dumps(read_policy(["*"])),
    )

    change = replan(roles, role_properties(), recorded)
    apply(roles, LOGICAL_ID, role_properties(), recorded)

    assert (change.action, changed(change)) == (Action.UPDATE, ["inline_policies"])
    assert "sneaky" in change.changes[0].old
    assert aws.client("iam").list_role_policies(RoleName="acme-dev-support")["PolicyNames"] == [
        "access"
    ]


def test_renaming_the_role_needs_a_replacement(aws: AwsContext) -> None:
    roles = RoleProvisioner(aws)
    recorded = apply(roles, LOGICAL_ID, role_properties())

    change = replan(roles, role_properties(name="acme-dev-other"), recorded)

    assert change.action is Action.REPLACE
    assert "rename" in change.reason


def test_destroy_detaches_policies_first_and_is_safe_to_repeat(aws: AwsContext) -> None:
    roles = RoleProvisioner(aws)
    recorded = apply(
        roles, LOGICAL_ID, role_properties(managed_policy_arns=[customer_policy(aws, "p")])
    )

    roles.destroy(recorded)
    roles.destroy(recorded)

    assert roles.get_current_state(role_properties(), recorded) is None


def test_a_refused_policy_names_the_role(aws: AwsContext) -> None:
    roles = RoleProvisioner(aws)
    broken = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}

    with pytest.raises(
        ProvisioningError, match="IAM role acme-dev-support: MalformedPolicyDocument"
    ):
        apply(roles, LOGICAL_ID, role_properties(inline_policies={"broken": broken}))


def _team_roles(aws: AwsContext, count: int) -> list[RecordedResource]:
    provisioner = RoleProvisioner(aws)
    return [
        apply(provisioner, f"agent/a{i}/role", role_properties(name=f"acme-dev-a{i}"))
        for i in range(count)
    ]


def test_several_recorded_roles_are_read_from_one_account_listing(aws: AwsContext) -> None:
    recorded = _team_roles(aws, 3)
    aws.client("iam").put_role_policy(
        RoleName="acme-dev-a1", PolicyName="extra", PolicyDocument=json.dumps(read_policy(["*"]))
    )
    calls: list[str] = []
    aws.client("iam").meta.events.register(
        "before-call", lambda model, **_: calls.append(model.name)
    )

    found = RoleProvisioner(aws).read_many([(r.properties, r) for r in recorded])

    assert calls == ["GetAccountAuthorizationDetails"]
    assert [f.outputs["name"] if f else None for f in found] == [r.physical_id for r in recorded]
    plans = [
        RoleProvisioner(aws).plan(r.logical_id, r.properties, r, f)
        for r, f in zip(recorded, found, strict=True)
    ]
    assert [p.action for p in plans] == [Action.NO_CHANGE, Action.UPDATE, Action.NO_CHANGE]
    assert changed(plans[1]) == ["inline_policies"]


def test_without_leave_to_list_the_account_each_role_is_read_on_its_own(
    proxy: FaultProxy,
) -> None:
    denied = {
        "action": "iam:GetAccountAuthorizationDetails",
        "kind": "server_error",
        "status": 403,
        "code": "AccessDenied",
        "message": "not allowed",
    }
    proxy.set_profile({"faults": [denied]})
    aws = AwsContext(
        target=Target(region="us-east-1", endpoint_url=proxy.endpoint_url),
        project="acme",
        stage="dev",
    )
    recorded = _team_roles(aws, 3)
    made = len(proxy.calls())

    found = RoleProvisioner(aws).read_many([(r.properties, r) for r in recorded])

    actions = [c.action for c in proxy.calls()[made:]]
    assert actions.count("iam:GetAccountAuthorizationDetails") == 1
    assert actions.count("iam:GetRole") == 3
    assert [f.outputs["name"] if f else None for f in found] == [r.physical_id for r in recorded]
