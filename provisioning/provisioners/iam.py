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

from provisioning.provisioners.base import Provisioner

PROVISIONERS: tuple[type[Provisioner], ...] = ()
