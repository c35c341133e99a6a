"""A `ProjectFile` as text and as changes: deterministic YAML, the JSON Schema editors use,
and the difference between two files (what an import would change).

Settings equal to their default are left out, keys keep the schema's order and lists are
sorted, so an export of an unchanged project is byte-identical and a diff shows only what
someone changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel

from provisioning.model import schema
from provisioning.model.links import allowed_kinds, split_key
from provisioning.model.project_file import (
    VERSION,
    AgentPart,
    ComponentPart,
    LinkPart,
    ProjectFile,
)


# --- writing ----------------------------------------------------------------------------------
def dump(project_file: ProjectFile, *, schema_url: str = "") -> str:
    """Deterministic YAML: defaults left out, the schema's key order, sorted lists."""
    data = _without_defaults(project_file)
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    header = f"# yaml-language-server: $schema={schema_url}\n" if schema_url else ""
    return header + text


def _without_defaults(project_file: ProjectFile) -> dict[str, Any]:
    data: dict[str, Any] = {"version": VERSION, "project": _compact(project_file.project)}
    stages = sorted(project_file.stages, key=lambda s: s.name)
    agents = sorted(project_file.agents, key=lambda a: a.name)
    components = sorted(project_file.components, key=lambda c: (c.kind, c.name))
    links = sorted(project_file.links, key=lambda link: (link.source, link.target))
    data["stages"] = [_compact(s) for s in stages]
    data["agents"] = [_compact(a) for a in agents]
    data["components"] = [_component(c) for c in components]
    data["links"] = [_link(link) for link in links]
    return {key: value for key, value in data.items() if value != []}


def _compact(model: BaseModel) -> dict[str, Any]:
    """A model's fields that differ from their default (required ones always), in order."""
    out: dict[str, Any] = {}
    fields = type(model).model_fields
    # An agent's name before its settings (they come first in the class it extends).
    first = ("name", "x", "y") if isinstance(model, AgentPart) else ()
    for name in sorted(fields, key=lambda n: n not in first):
        info = fields[name]
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            nested = _compact(value)
            if nested:
                out[name] = nested
            continue
        dumped = _plain(value)
        if info.is_required() or dumped != _plain(info.get_default(call_default_factory=True)):
            out[name] = dumped
    return out


def _component(component: ComponentPart) -> dict[str, Any]:
    out = _compact(component)
    settings = _changed_settings(schema.component_model(component.kind), component.settings)
    out.pop("settings", None)
    if settings:
        out["settings"] = settings
    return out


def _link(link: LinkPart) -> dict[str, Any]:
    out = _compact(link)
    kinds = allowed_kinds(link.source, link.target)
    if kinds and out.get("kind") == kinds[0]:
        del out["kind"]  # the pair's default kind is the kind an omitted one means
    model = schema.link_model(split_key(link.source)[0], split_key(link.target)[0])
    settings = _changed_settings(model, link.settings)
    out.pop("settings", None)
    if settings:
        out["settings"] = settings
    return out


def _changed_settings(model: type[schema.Settings], settings: dict[str, Any]) -> dict[str, Any]:
    """The settings that differ from the model's defaults, in the schema's order (a database
    may hand them back in another: PostgreSQL's jsonb orders keys its own way)."""
    cleaned, defaults = schema.clean(model, settings), schema.clean(model, {})
    return {k: _plain(v) for k, v in cleaned.items() if k in settings and v != defaults.get(k)}


def _plain(value: Any) -> Any:
    """JSON data with every mapping's keys sorted, so the text does not depend on the order a
    database or a person wrote them in."""
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="json"))
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(value[key]) for key in sorted(value)}
    return value


def json_schema() -> dict[str, Any]:
    """The JSON Schema editors use to check and complete a project file: each component's
    and link's settings are checked against its own kind's schema."""
    document = ProjectFile.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "Strands Deploy project file"
    defs = document["$defs"]
    components = []
    for kind, model in schema.COMPONENTS.items():
        components.append(_when({"kind": {"const": kind}}, _define(defs, model)))
    links = []
    for (source, target), model in schema.LINKS.items():
        ends = {"source": {"pattern": f"^{source}:"}, "target": {"pattern": f"^{target}:"}}
        links.append(_when(ends, _define(defs, model)))
    defs["ComponentPart"]["allOf"] = components
    defs["LinkPart"]["allOf"] = links
    return document


def _define(defs: dict[str, Any], model: type[BaseModel]) -> str:
    sub = model.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(sub.pop("$defs", {}))
    defs[model.__name__] = sub
    return f"#/$defs/{model.__name__}"


def _when(condition: dict[str, Any], settings_ref: str) -> dict[str, Any]:
    return {
        "if": {"properties": condition, "required": list(condition)},
        "then": {"properties": {"settings": {"$ref": settings_ref}}},
    }


# --- comparing --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """One node, link, stage or the project itself: added, changed or removed."""

    action: Literal["add", "change", "remove"]
    key: str
    """"project", "stage:dev", "agent:support", "table:orders", "link agent:a->table:t"."""
    fields: tuple[tuple[str, Any, Any], ...] = ()
    """(dotted path, old, new) for each field that differs."""


def entries(project_file: ProjectFile | None) -> dict[str, dict[str, Any]]:
    """The file as key -> its compact fields: what `diff` compares."""
    if project_file is None:
        return {}
    data = _without_defaults(project_file)
    found = {"project": data["project"]}
    for stage in data.get("stages", []):
        found[f"stage:{stage['name']}"] = stage
    for agent in data.get("agents", []):
        found[f"agent:{agent['name']}"] = agent
    for component in data.get("components", []):
        found[f"{component['kind']}:{component['name']}"] = component
    for link in data.get("links", []):
        found[f"link {link['source']}->{link['target']}"] = link
    return found


def diff(current: ProjectFile | None, wanted: ProjectFile) -> list[Change]:
    """What applying `wanted` over `current` changes, in a stable order."""
    old, new = entries(current), entries(wanted)
    changes = []
    for key in sorted(old.keys() | new.keys(), key=_change_order):
        if key not in old:
            changes.append(Change("add", key, tuple(_differences({}, new[key]))))
        elif key not in new:
            changes.append(Change("remove", key))
        else:
            fields = _differences(old[key], new[key])
            if fields:
                changes.append(Change("change", key, tuple(fields)))
    return changes


def _change_order(key: str) -> tuple[int, str]:
    rank = 0 if key == "project" else 1 if key.startswith("stage:") else 3 if " " in key else 2
    return rank, key


def _differences(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for name in [*old, *(k for k in new if k not in old)]:
            where = f"{path}.{name}" if path else name
            found += _differences(old.get(name), new.get(name), where)
        return found
    return [] if old == new else [(path, old, new)]
