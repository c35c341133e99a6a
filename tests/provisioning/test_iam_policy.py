"""Customer-managed IAM policies against moto: destroy lets go of what IAM would refuse."""

from __future__ import annotations

import json

import pytest
from botocore.awsrequest import AWSResponse

from provisioning.aws import AwsContext
from provisioning.errors import ProvisioningError
from provisioning.provisioners.iam_policy import ManagedPolicyProvisioner
from tests.provisioning.lifecycle import apply

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _document(action: str) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
    }


PROPS = {"name": "acme-dev-extra", "description": "overflow", "document": _document("s3:GetObject")}


def test_destroy_detaches_and_drops_old_versions_and_is_safe_to_repeat(aws: AwsContext) -> None:
    # Given a policy attached to a role and holding an older version (IAM refuses both)
    policies = ManagedPolicyProvisioner(aws)
    recorded = apply(policies, "agents/extra", PROPS)
    apply(policies, "agents/extra", {**PROPS, "document": _document("s3:PutObject")}, recorded)
    iam = aws.client("iam")
    iam.create_role(RoleName="acme-dev-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName="acme-dev-role", PolicyArn=recorded.physical_id)
    # When it is destroyed, then it is gone and the role no longer holds it
    policies.destroy(recorded)
    assert policies.get_current_state(PROPS, recorded) is None
    assert iam.list_attached_role_policies(RoleName="acme-dev-role")["AttachedPolicies"] == []
    # And destroying again (a retried run) is done, not an error
    policies.destroy(recorded)


def test_a_refused_delete_is_an_error_naming_the_policy(aws: AwsContext) -> None:
    # Only "not found" means done: a refusal must reach the user and leave the policy.
    policies = ManagedPolicyProvisioner(aws)
    recorded = apply(policies, "agents/extra", PROPS)

    def refuse(**_kwargs: object) -> tuple[AWSResponse, dict[str, object]]:
        error = {"Error": {"Code": "AccessDenied", "Message": "not allowed to delete"}}
        return AWSResponse("https://iam", 403, {}, None), error

    aws.client("iam").meta.events.register("before-call.iam.DeletePolicy", refuse)
    with pytest.raises(
        ProvisioningError, match=r"deleting IAM policy .*acme-dev-extra: AccessDenied"
    ) as refused:
        policies.destroy(recorded)
    assert "manage.py deployer_policy" in str(refused.value)  # where to find what is missing
    assert policies.get_current_state(PROPS, recorded) is not None
