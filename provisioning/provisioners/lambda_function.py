"""Lambda functions, their invoke permissions and SQS event source mappings.

lambda:function properties:
  name: str
  role_arn: str (Ref to iam:role arn)
  runtime: str ("python3.12"), handler: str ("handler.handler"), architecture: "x86_64" | "arm64"
  memory_mb: int, timeout_s: int
  environment: dict[str, str]
  reserved_concurrency: int | None
  tracing: "Active" | "PassThrough"
  layers: list[str]
  code: dict                      the packaging recipe (write-only: not readable from AWS)
  code_sha256: str                base64 SHA-256 of the zip, as Lambda reports CodeSha256
outputs: physical_id (name), name, arn

lambda:permission properties:
  function_name: str (Ref), statement_id: str, action: "lambda:InvokeFunction",
  principal: str, source_arn: str | None
outputs: physical_id ("<function>/<statement id>")

lambda:event-source-mapping properties:
  function_name: str (Ref), event_source_arn: str (Ref), batch_size: int,
  maximum_batching_window_s: int, enabled: bool, report_batch_item_failures: bool
outputs: physical_id (mapping UUID), uuid"""

from __future__ import annotations

from provisioning.provisioners.base import Provisioner

PROVISIONERS: tuple[type[Provisioner], ...] = ()
