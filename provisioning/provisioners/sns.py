"""SNS topics and subscriptions.

sns:topic properties:
  name: str (".fifo" when fifo), fifo: bool, content_based_deduplication: bool,
  kms_master_key_id: str | None, display_name: str
outputs: physical_id (topic arn), arn, name

sns:subscription properties:
  topic_arn (Ref), protocol: "sqs" | "lambda", endpoint (Ref to queue/function arn),
  filter_policy: dict | None, raw_message_delivery: bool
outputs: physical_id (subscription arn), arn"""

from __future__ import annotations

from provisioning.provisioners.base import Provisioner

PROVISIONERS: tuple[type[Provisioner], ...] = ()
