"""S3 buckets: encrypted, versioned on request, public access blocked.

s3:bucket properties:
  name: str (lowercase, 3-63)
  versioning: bool
  encryption: {"algorithm": "AES256" | "aws:kms", "kms_key_id": str | None}
  block_public_access: bool
outputs: physical_id (name), name, arn"""

from __future__ import annotations

from provisioning.provisioners.base import Provisioner

PROVISIONERS: tuple[type[Provisioner], ...] = ()
