"""DynamoDB tables.

dynamodb:table properties:
  name: str
  billing_mode: "PAY_PER_REQUEST" | "PROVISIONED"
  read_capacity: int | None, write_capacity: int | None     (PROVISIONED only)
  partition_key: {"name": str, "type": "S" | "N" | "B"}
  sort_key: {"name": str, "type": ...} | None
  stream_view_type: None | "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES" | "KEYS_ONLY"
  global_secondary_indexes: list[dict]   (see build_gsi)
  point_in_time_recovery: bool
outputs: physical_id (name), name, arn, stream_arn"""

from __future__ import annotations

from provisioning.provisioners.base import Provisioner

PROVISIONERS: tuple[type[Provisioner], ...] = ()
