"""CloudWatch log groups, so destroy leaves no log group behind.

logs:log-group properties:
  name: str             "/aws/lambda/<function name>"
  retention_days: int
outputs: physical_id (name), name, arn"""

from __future__ import annotations

from provisioning.provisioners.base import Provisioner

PROVISIONERS: tuple[type[Provisioner], ...] = ()
