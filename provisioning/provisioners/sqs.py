"""SQS queues and queue policies.

sqs:queue properties:
  name: str ("...fifo" when fifo)
  fifo: bool, content_based_deduplication: bool
  visibility_timeout_s: int, message_retention_s: int, receive_wait_time_s: int, delay_s: int
  dead_letter: {"target_arn": str (Ref), "max_receive_count": int} | None
  kms_master_key_id: str | None   (None: SQS-managed encryption)
outputs: physical_id (queue URL), url, arn, name

sqs:queue-policy properties: queue_url (Ref), policy: dict (may hold Refs)
outputs: physical_id (queue URL)"""

from __future__ import annotations

from provisioning.provisioners.base import Provisioner

PROVISIONERS: tuple[type[Provisioner], ...] = ()
