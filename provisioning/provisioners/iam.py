"""IAM execution roles and their policies.

iam:role properties:
  name: str                       physical role name (deterministic, <= 64)
  description: str
  assume_role_policy: dict        trust policy document
  inline_policies: dict[str, dict]  policy name -> policy document (Refs resolved before provision)
  managed_policy_arns: list[str]  sorted
  permissions_boundary: str | None
outputs: physical_id (role name), name, arn"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from provisioning.errors import aws_errors, delete_if_present, error_code, found_or_none
from provisioning.model.policy_documents import POLICY_VERSION, allow_statement
from provisioning.provisioners.base import (
    Current,
    Provisioner,
    ReadRequest,
    normalise,
    physical_id_of,
    tag_dict,
)
from provisioning.state import RecordedResource

"""IAM's limit on a role's inline policy text, in characters without whitespace."""
ACCOUNT_LISTING_FROM = 3
"""Recorded roles from which one account listing (GetAccountAuthorizationDetails, 1,000
roles a page) is cheaper than reading each role (3 calls + one per inline policy)."""


def build_lambda_assume_role_policy() -> dict[str, Any]:
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def build_policy_from_permissions(permissions: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Least-privilege statements: one per distinct action set, resources merged.

    A wildcard resource is dropped when the same actions also name real ARNs;
    wildcard actions are refused outright.
    """
    grouped: dict[tuple[str, ...], set[str]] = {}
    for permission in permissions:
        actions = tuple(sorted(set(permission["actions"])))
        if not actions:
            raise ValueError("a permission needs at least one action")
        wildcards = [a for a in actions if a == "*" or a.endswith(":*")]
        if wildcards:
            raise ValueError(f"wildcard actions are not allowed: {', '.join(wildcards)}")
        grouped.setdefault(actions, set()).update(permission["resources"])
    statements = [
        allow_statement(actions, resources) for actions, resources in sorted(grouped.items())
    ]
    return {"Version": POLICY_VERSION, "Statement": statements}


class RoleProvisioner(Provisioner):
    resource_type = "iam:role"
    noun = "IAM role"
    replace_on = {"name": "IAM cannot rename a role"}
    reads_together = True
    batch_is_exact = False  # the account listing has no description

    def read_many(self, requests: Sequence[ReadRequest]) -> list[Current | None]:
        if sum(1 for _, recorded in requests if recorded) < ACCOUNT_LISTING_FROM:
            return super().read_many(requests)
        listed = self._account_roles()
        if listed is None:
            return super().read_many(requests)
        return [
            self._from_listing(listed, recorded)
            if recorded
            else self.get_current_state(properties, None)
            for properties, recorded in requests
        ]

    def _account_roles(self) -> dict[str, Mapping[str, Any]] | None:
        """None when the deploying identity may not list the account (a policy scoped to
        the project's roles): each role is then read on its own."""
        paginator = self.aws.client("iam").get_paginator("get_account_authorization_details")
        with aws_errors("listing IAM roles", self.aws.account_id):
            pages = paginator.paginate(Filter=["Role"], PaginationConfig={"PageSize": 1000})
            try:
                return {r["RoleName"]: r for page in pages for r in page["RoleDetailList"]}
            except ClientError as exc:
                if error_code(exc) in ("AccessDenied", "AccessDeniedException"):
                    return None
                raise

    def _from_listing(
        self, listed: Mapping[str, Mapping[str, Any]], recorded: RecordedResource
    ) -> Current | None:
        role = listed.get(recorded.physical_id)
        if role is None:
            return None
        inline = {p["PolicyName"]: p["PolicyDocument"] for p in role.get("RolePolicyList", [])}
        managed = [p["PolicyArn"] for p in role.get("AttachedManagedPolicies", [])]
        # The listing leaves out the description: the recorded one stands for it.
        description = recorded.properties.get("description", "")
        return Current(_role_properties(role, description, inline, managed), _outputs(role))

    def canonical(self, name: str, value: Any) -> Any:
        if name == "managed_policy_arns":
            return sorted(value or [])
        return super().canonical(name, value)

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        name = physical_id_of(properties, recorded)
        iam = self.aws.client("iam")
        with aws_errors("reading IAM role", name):
            found = found_or_none(iam.get_role, RoleName=name)
            if found is None:
                return None
            role = found["Role"]
            inline = {
                policy: iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
                for policy in self._inline_names(name)
            }
            managed = [
                p["PolicyArn"]
                for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
                for p in page["AttachedPolicies"]
            ]
        props = _role_properties(role, role.get("Description", ""), inline, managed)
        return Current(props, _outputs(role))

    def _inline_names(self, name: str) -> list[str]:
        paginator = self.aws.client("iam").get_paginator("list_role_policies")
        return [p for page in paginator.paginate(RoleName=name) for p in page["PolicyNames"]]

    def owner_tags(self, current: Current) -> Mapping[str, str] | None:
        name = current.outputs["name"]
        with aws_errors("reading tags of IAM role", name):
            return tag_dict(self.aws.client("iam").list_role_tags(RoleName=name)["Tags"])

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # "EntityAlreadyExists" after a lost reply: `provision` finds it and updates it.
        name = properties["name"]
        args: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": json.dumps(properties["assume_role_policy"]),
            "Description": properties.get("description", ""),
            "Tags": self.aws.tag_list(logical_id),
        }
        if properties.get("permissions_boundary"):
            args["PermissionsBoundary"] = properties["permissions_boundary"]
        role = self.aws.client("iam").create_role(**args)["Role"]
        with aws_errors("updating IAM role", name):
            self._sync(
                name, properties, {**properties, "inline_policies": {}, "managed_policy_arns": []}
            )
        return _outputs(role)

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        name = properties["name"]
        self.aws.client("iam").tag_role(RoleName=name, Tags=self.aws.tag_list(logical_id))
        self._sync(name, properties, current.properties)
        return dict(current.outputs)

    def _sync(self, name: str, want: Mapping[str, Any], have: Mapping[str, Any]) -> None:
        iam = self.aws.client("iam")
        if normalise(want["assume_role_policy"]) != normalise(have.get("assume_role_policy")):
            iam.update_assume_role_policy(
                RoleName=name, PolicyDocument=json.dumps(want["assume_role_policy"])
            )
        if want.get("description", "") != have.get("description", ""):
            iam.update_role(RoleName=name, Description=want.get("description", ""))
        self._sync_inline(name, want.get("inline_policies", {}), have.get("inline_policies", {}))
        self._sync_managed(
            name, set(want.get("managed_policy_arns", [])), set(have.get("managed_policy_arns", []))
        )
        boundary = want.get("permissions_boundary")
        if boundary != have.get("permissions_boundary"):
            if boundary:
                iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=boundary)
            else:
                iam.delete_role_permissions_boundary(RoleName=name)

    def _sync_inline(self, name: str, want: Mapping[str, Any], have: Mapping[str, Any]) -> None:
        iam = self.aws.client("iam")
        for policy, document in want.items():
            if normalise(have.get(policy)) != normalise(document):
                iam.put_role_policy(
                    RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document)
                )
        for policy in set(have) - set(want):
            iam.delete_role_policy(RoleName=name, PolicyName=policy)

    def _sync_managed(self, name: str, want: set[str], have: set[str]) -> None:
        iam = self.aws.client("iam")
        for arn in sorted(want - have):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        for arn in sorted(have - want):
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)

    def destroy(self, recorded: RecordedResource) -> None:
        name = recorded.physical_id
        iam = self.aws.client("iam")
        with aws_errors("deleting IAM role", name):
            current = self.get_current_state(None, recorded)
            if current is None:
                return
            # Each step tolerates "not found" on its own: a retried call whose first reply
            # was lost answers NoSuchEntity, which must not be read as "the role is gone".
            for arn in sorted(current.properties["managed_policy_arns"]):
                delete_if_present(iam.detach_role_policy, RoleName=name, PolicyArn=arn)
            for policy in current.properties["inline_policies"]:
                delete_if_present(iam.delete_role_policy, RoleName=name, PolicyName=policy)
            delete_if_present(iam.delete_role, RoleName=name)


def _decode(document: str | Mapping[str, Any]) -> Any:
    """botocore already parses policy documents; other clients may hand back URL-encoded text."""
    if isinstance(document, str):
        return json.loads(unquote(document))
    return document


def _role_properties(
    role: Mapping[str, Any],
    description: str,
    inline: Mapping[str, Any],
    managed: Iterable[str],
) -> dict[str, Any]:
    boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
    return {
        "name": role["RoleName"],
        "description": description,
        "assume_role_policy": _decode(role["AssumeRolePolicyDocument"]),
        "inline_policies": {k: _decode(v) for k, v in inline.items()},
        "managed_policy_arns": sorted(managed),
        "permissions_boundary": boundary,
    }


def _outputs(role: Mapping[str, Any]) -> dict[str, Any]:
    return {"physical_id": role["RoleName"], "name": role["RoleName"], "arn": role["Arn"]}


PROVISIONERS: tuple[type[Provisioner], ...] = (RoleProvisioner,)
