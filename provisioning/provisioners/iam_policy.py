"""Customer-managed IAM policies: what an execution role holds beyond IAM's inline cap.

IAM caps the sum of a role's inline policies at 10,240 characters; the optimizer moves
what does not fit into managed policies (6,144 characters each) attached to the role.

iam:policy properties:
  name: str                 physical policy name (deterministic, <= 128)
  description: str          (IAM cannot change it: a new description replaces the policy)
  document: dict            the policy document (Refs resolved before provision)
outputs: physical_id (policy ARN), arn, name

Reads: GetPolicy (for the default version) + GetPolicyVersion: two calls, the least IAM allows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from provisioning.errors import aws_errors, delete_if_present, is_not_found
from provisioning.provisioners.base import (
    Current,
    Provisioner,
    normalise,
    tag_dict,
)
from provisioning.state import RecordedResource

"""IAM's limit on one managed policy document, in characters without whitespace."""
MAX_VERSIONS = 5
"""IAM keeps at most five versions of a managed policy."""


class ManagedPolicyProvisioner(Provisioner):
    resource_type = "iam:policy"
    noun = "IAM policy"
    replace_on = {
        "name": "IAM cannot rename a policy",
        "description": "IAM cannot change a policy's description",
    }

    def _arn(self, name: str) -> str:
        return f"arn:{self.aws.partition}:iam::{self.aws.account_id}:policy/{name}"

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        arn = recorded.physical_id if recorded else self._arn((properties or {})["name"])
        iam = self.aws.client("iam")
        with aws_errors("reading IAM policy", arn):
            try:
                policy = iam.get_policy(PolicyArn=arn)["Policy"]
                version = iam.get_policy_version(
                    PolicyArn=arn, VersionId=policy["DefaultVersionId"]
                )["PolicyVersion"]
            except ClientError as exc:
                if is_not_found(exc):
                    return None
                raise
        props = {
            "name": policy["PolicyName"],
            "description": policy.get("Description", ""),
            "document": _decode(version["Document"]),
        }
        return Current(props, _outputs(policy["Arn"], policy["PolicyName"]))

    def owner_tags(self, current: Current) -> Mapping[str, str] | None:
        arn = current.outputs["arn"]
        with aws_errors("reading tags of IAM policy", arn):
            return tag_dict(self.aws.client("iam").list_policy_tags(PolicyArn=arn)["Tags"])

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # "EntityAlreadyExists" after a lost reply: `provision` finds it and updates it.
        # The tags go on with the create, so what a lost reply made has them too.
        made = self.aws.client("iam").create_policy(
            PolicyName=properties["name"],
            PolicyDocument=json.dumps(properties["document"]),
            Description=properties.get("description", ""),
            Tags=self.aws.tag_list(logical_id),
        )["Policy"]
        return _outputs(made["Arn"], properties["name"])

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        if normalise(current.properties.get("document")) != normalise(properties["document"]):
            self._new_version(current.outputs["arn"], properties["document"])
        return dict(current.outputs)

    def _new_version(self, arn: str, document: Mapping[str, Any]) -> None:
        iam = self.aws.client("iam")
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        old = sorted((v for v in versions if not v["IsDefaultVersion"]), key=_created)
        if len(versions) >= MAX_VERSIONS and old:
            iam.delete_policy_version(PolicyArn=arn, VersionId=old[0]["VersionId"])
        iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True
        )

    def destroy(self, recorded: RecordedResource) -> None:
        arn = recorded.physical_id
        with aws_errors("deleting IAM policy", arn):
            delete_if_present(self._detach_and_delete, arn=arn)

    def _detach_and_delete(self, arn: str) -> None:
        """IAM refuses to delete a policy still attached or holding old versions."""
        iam = self.aws.client("iam")
        attached = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")
        for role in attached.get("PolicyRoles", []):
            delete_if_present(iam.detach_role_policy, RoleName=role["RoleName"], PolicyArn=arn)
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                delete_if_present(
                    iam.delete_policy_version, PolicyArn=arn, VersionId=version["VersionId"]
                )
        iam.delete_policy(PolicyArn=arn)


def _created(version: Mapping[str, Any]) -> Any:
    return version.get("CreateDate") or version["VersionId"]


def _decode(document: str | Mapping[str, Any]) -> Any:
    if isinstance(document, str):
        return json.loads(unquote(document))
    return document


def _outputs(arn: str, name: str) -> dict[str, Any]:
    return {"physical_id": arn, "arn": arn, "name": name}


PROVISIONERS: tuple[type[Provisioner], ...] = (ManagedPolicyProvisioner,)
