"""Reading the schema: its fields as the dashboard lays them out, cleaning values, errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from provisioning.model.schema.base import (
    Settings,
)
from provisioning.model.schema.components import COMPONENTS
from provisioning.model.schema.links import LINKS, NoLinkSettings


# --- reading the schema -----------------------------------------------------------------------
@dataclass(frozen=True)
class FieldSpec:
    """One field as the dashboard lays it out."""

    name: str
    label: str
    help: str
    group: str
    stage: bool
    secret: bool
    required: bool
    default: Any
    annotation: Any
    low: float | None
    high: float | None
    max_length: int | None


def fields(model: type[BaseModel]) -> list[FieldSpec]:
    found = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        low = high = max_length = None
        for item in info.metadata:
            low = getattr(item, "ge", None) if getattr(item, "ge", None) is not None else low
            high = getattr(item, "le", None) if getattr(item, "le", None) is not None else high
            if getattr(item, "max_length", None) is not None:
                max_length = item.max_length
        found.append(
            FieldSpec(
                name=name,
                label=str(extra.get("label") or name.replace("_", " ").capitalize()),
                help=info.description or "",
                group=str(extra.get("group", "basic")),
                stage=bool(extra.get("stage", False)),
                secret=bool(extra.get("secret", False)),
                required=info.is_required(),
                default=None if info.is_required() else info.get_default(call_default_factory=True),
                annotation=info.annotation,
                low=low,
                high=high,
                max_length=max_length,
            )
        )
    return found


class SettingsError(ValueError):
    """Every problem of one settings mapping: [(dotted field path, message)]."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))
        self.problems = problems


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    found = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "settings"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "no such setting"
        found.append((path, message))
    return found


def clean(model: type[Settings], given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults filled in, unknown names refused, each value checked and normalised."""
    try:
        return model.model_validate(dict(given or {})).model_dump(mode="json")
    except ValidationError as exc:
        raise SettingsError(problems_of(exc)) from None


def component_model(kind: str) -> type[Settings]:
    try:
        return COMPONENTS[kind]
    except KeyError:
        raise SettingsError([("kind", f"unknown component kind {kind!r}")]) from None


def link_model(source_kind: str, target_kind: str) -> type[Settings]:
    return LINKS.get((source_kind, target_kind), NoLinkSettings)


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def secret_names(model: type[BaseModel]) -> frozenset[str]:
    """Fields whose values are secrets: written once, kept sealed, never shown or exported."""
    return frozenset(f.name for f in fields(model) if f.secret)
