"""A function's code on its way to Lambda: checked against the size limits, then sent
directly or, over 50 MB zipped, through the stage's artifacts bucket.

Function properties read here (both optional, neither readable back from AWS):
  artifacts_bucket: str | None   the bucket big zips are uploaded to
  layer_sizes: list[int]         unzipped bytes of each layer the graph gave the function
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from provisioning.aws import AwsContext
from provisioning.strands import packaging

WRITE_ONLY = frozenset({"artifacts_bucket", "layer_sizes"})


def code_args(aws: AwsContext, properties: Mapping[str, Any]) -> dict[str, Any]:
    """`Code` for CreateFunction, or the keyword arguments of UpdateFunctionCode."""
    zip_bytes = packaging.package_code(properties["code"])
    layers = [
        {f"layer {i + 1}": int(size)} for i, size in enumerate(properties.get("layer_sizes") or [])
    ]
    check = packaging.check_sizes(
        len(zip_bytes), *layers, function_unzipped_size=packaging.unzipped_size(zip_bytes)
    )
    if not check.upload_via_s3:
        return {"ZipFile": zip_bytes}
    bucket = properties.get("artifacts_bucket")
    if not bucket:
        raise packaging.PackagingError(
            f"function {properties['name']} is {len(zip_bytes) / packaging.MB:.1f} MB zipped, "
            "over the 50 MB direct-upload limit, and no artifacts bucket was given"
        )
    key = f"functions/{properties['name']}/{hashlib.sha256(zip_bytes).hexdigest()}.zip"
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=zip_bytes)
    return {"S3Bucket": bucket, "S3Key": key}
