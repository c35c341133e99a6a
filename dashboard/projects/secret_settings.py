"""Settings the schema marks secret (`secret=True`): written once, sealed, never shown.

Forms render them write-only; the services seal what is typed and keep what is stored when
the field comes back blank; every read (the API, the canvas JSON) shows only whether one is
set; project files never carry them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from dashboard.access import secrets
from provisioning.model import schema

SET = "(set)"


def sealed(
    model: type[BaseModel], given: Mapping[str, Any], stored: Mapping[str, Any]
) -> dict[str, Any]:
    """`given` with each secret typed in clear sealed, and each blank one kept as stored."""
    out = dict(given)
    for name in schema.secret_names(model) & given.keys():
        value = given[name]
        out[name] = stored.get(name, "") if value in (None, "") else secrets.seal(str(value))
    return out


def shown(model: type[BaseModel], settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as a reader may see them: a secret is "(set)" or empty, never its token."""
    names = schema.secret_names(model)
    return {k: (SET if v else "") if k in names else v for k, v in settings.items()}


def without(model: type[BaseModel], settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings with the secrets left out (project files)."""
    names = schema.secret_names(model)
    return {k: v for k, v in settings.items() if k not in names}
