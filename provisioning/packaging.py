"""Build Lambda deployment packages (function zips and layers) deterministically."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

_EPOCH = (1980, 1, 1, 0, 0, 0)


def code_sha256(zip_bytes: bytes) -> str:
    """The digest exactly as Lambda reports it in CodeSha256 (base64, not hex)."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode("ascii")


def zip_files(files: Mapping[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = files[name]
            zf.writestr(info, data.encode() if isinstance(data, str) else data)
    return buf.getvalue()


def package_code(recipe: Mapping[str, Any]) -> bytes:
    kind = recipe.get("kind")
    if kind == "inline":
        return zip_files(recipe["files"])
    raise ValueError(f"unknown code recipe kind: {kind!r}")


def canonical(recipe: Mapping[str, Any]) -> str:
    return json.dumps(recipe, sort_keys=True, separators=(",", ":"))
