"""The project file (`strands-deploy.yaml`): a project as reviewable, versioned text.

Version 1 holds the project, its stages, agents, components and links, with every setting
from the node schemas (`schema.py`) and nothing else. Settings equal to their default are
left out, keys keep the schema's order and lists are sorted, so an export of an unchanged
project is byte-identical and a diff shows only what someone changed. Secrets never appear:
an agent lists the names of its secret variables, whose values stay sealed in the dashboard.

`parse` reads text into a `ProjectFile` and reports every problem at once, each with its
line and column in the text and the dotted path of the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provisioning.model import schema
from provisioning.model.links import allowed_kinds, split_key

VERSION = 1
FILE_NAME = "strands-deploy.yaml"
MAX_BYTES = 1_000_000
NAME = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$"
SCHEMA_PATH = "/schema/strands-deploy.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectPart(_Strict):
    name: str = Field(pattern=NAME, description="The project's name.")
    description: str = Field("", description="What the project is for.")


class StagePart(_Strict):
    name: str = Field(pattern=NAME, max_length=16, description="The stage's name, e.g. dev.")
    region: str = Field("us-east-1", description="The AWS region the stage deploys to.")
    target: Literal["sandbox", "aws"] = Field("sandbox", description="The sandbox or AWS.")
    role_arn: str = Field("", description="A role deploys assume; empty: the worker's own.")
    external_id: str = Field("", description="The external id the role asks for.")
    protected: bool = Field(False, description="Deploys need an owner's approval.")
    drift_check_hours: int | None = Field(None, ge=1, le=8760, description="Drift check period.")
    settings: schema.StageSettings = Field(
        default_factory=schema.StageSettings, description="Stage-wide engine settings."
    )


class CodePart(_Strict):
    kind: Literal["zip", "directory"] = Field(description="An uploaded zip or a directory.")
    path: str = Field(description="Where the server keeps the code (under its code root).")
    handler: str = Field("app.handler", description="module.function")
    requirements: str = Field("requirements.txt", description="The requirements file shipped.")
    sha256: str = Field("", description="The uploaded bundle's hash.")


class AgentPart(schema.AgentSettings):
    name: str = Field(pattern=NAME, description="The agent's name.")
    x: int = Field(0, description="Its place on the canvas.")
    y: int = Field(0, description="Its place on the canvas.")
    code: CodePart | None = Field(None, description="Its own code; empty: the generated one.")
    secrets: list[str] = Field(
        default_factory=list,
        description="Names of its secret variables; their values are set in the dashboard.",
    )


class ComponentPart(_Strict):
    kind: Literal["bucket", "table", "queue", "topic", "http_api"]
    name: str = Field(pattern=NAME)
    x: int = 0
    y: int = 0
    settings: dict[str, Any] = Field(
        default_factory=dict, description="The kind's settings (see the schema per kind)."
    )


class LinkPart(_Strict):
    source: str = Field(pattern=r"^[a-z_]+:[a-z0-9-]+$", description='A node key: "agent:x".')
    target: str = Field(pattern=r"^[a-z_]+:[a-z0-9-]+$")
    kind: str = Field("", description="read / read_write / sessions ...; empty: the default.")
    settings: dict[str, Any] = Field(default_factory=dict)


class ProjectFile(_Strict):
    version: Literal[1] = Field(description="The format's version.")
    project: ProjectPart
    stages: list[StagePart] = Field(default_factory=list)
    agents: list[AgentPart] = Field(default_factory=list)
    components: list[ComponentPart] = Field(default_factory=list)
    links: list[LinkPart] = Field(default_factory=list)


# --- reading ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileProblem:
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ProjectFileError(ValueError):
    def __init__(self, problems: list[FileProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def parse(text: str | bytes) -> ProjectFile:
    """The file's project, or `ProjectFileError` listing every problem with line:column."""
    if len(text) > MAX_BYTES:
        raise ProjectFileError(
            [FileProblem(1, 1, "", f"the file is over {MAX_BYTES // 1000} kB: not a project file")]
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ProjectFileError([FileProblem(1, 1, "", "the file is not UTF-8 text")]) from None
    try:
        _refuse_aliases(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        problem = FileProblem(line, column, "", f"not valid YAML: {message}")
        raise ProjectFileError([problem]) from None
    except yaml.YAMLError as exc:
        raise ProjectFileError([FileProblem(1, 1, "", f"not valid YAML: {exc}")]) from None
    duplicates = _duplicate_keys(root)
    if duplicates:
        raise ProjectFileError(duplicates)
    if not isinstance(data, dict):
        raise ProjectFileError(
            [FileProblem(1, 1, "", "a project file is a mapping (version: 1 ...)")]
        )
    located = [(loc, message) for loc, message in _content_problems(data)]
    parsed = None
    try:
        parsed = ProjectFile.model_validate(data)
    except ValidationError as exc:
        located += _pydantic_problems(exc)
    if located:
        raise ProjectFileError(_place(located, root))
    assert parsed is not None
    return _with_clean_settings(parsed)


Location = list[Any]


def _content_problems(data: dict[str, Any]) -> list[tuple[Location, str]]:
    """What the shape alone cannot say: each component's and link's settings against its
    kind's schema, links to nodes the file lacks, and names given twice."""
    problems: list[tuple[Location, str]] = []
    agents = [a for a in _items(data, "agents")]
    components = [c for c in _items(data, "components")]
    nodes = {f"agent:{a.get('name')}" for _, a in agents}
    nodes |= {f"{c.get('kind')}:{c.get('name')}" for _, c in components}
    for index, component in components:
        model = schema.COMPONENTS.get(str(component.get("kind")))
        if model is not None:
            problems += _settings_problems(["components", index], model, component)
    for index, link in _items(data, "links"):
        for end in ("source", "target"):
            if isinstance(link.get(end), str) and link[end] not in nodes:
                problems.append((["links", index, end], f"the file has no node {link[end]!r}"))
        if isinstance(link.get("source"), str) and isinstance(link.get("target"), str):
            model = schema.link_model(split_key(link["source"])[0], split_key(link["target"])[0])
            problems += _settings_problems(["links", index], model, link)
    for what, key in (
        ("stages", lambda s: s.get("name")),
        ("agents", lambda a: a.get("name")),
        ("components", lambda c: f"{c.get('kind')}:{c.get('name')}"),
        ("links", lambda link: f"{link.get('source')}->{link.get('target')}"),
    ):
        seen: set[str] = set()
        for index, item in _items(data, what):
            if key(item) in seen:
                problems.append(([what, index], f"{key(item)} appears twice"))
            seen.add(key(item))
    return problems


def _items(data: dict[str, Any], what: str) -> list[tuple[int, dict[str, Any]]]:
    listed = data.get(what)
    if not isinstance(listed, list):
        return []
    return [(index, item) for index, item in enumerate(listed) if isinstance(item, dict)]


def _settings_problems(
    where: Location, model: type[schema.Settings], item: dict[str, Any]
) -> list[tuple[Location, str]]:
    given = item.get("settings", {})
    if not isinstance(given, dict):
        return []  # the shape check says so
    secrets = sorted(schema.secret_names(model) & given.keys())
    if secrets:
        refusal = "a secret: set it in the dashboard (a project file never carries secrets)"
        return [([*where, "settings", name], refusal) for name in secrets]
    try:
        schema.clean(model, given)
    except schema.SettingsError as exc:
        return [([*where, "settings", *path.split(".")], message) for path, message in exc.problems]
    return []


def _pydantic_problems(error: ValidationError) -> list[tuple[Location, str]]:
    found = []
    for item in error.errors():
        location = [part for part in item["loc"] if not _is_union_tag(part)]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "no such field"
        found.append((location, message))
    return found


def _with_clean_settings(parsed: ProjectFile) -> ProjectFile:
    for component in parsed.components:
        component.settings = schema.clean(
            schema.component_model(component.kind), component.settings
        )
    for link in parsed.links:
        model = schema.link_model(split_key(link.source)[0], split_key(link.target)[0])
        link.settings = schema.clean(model, link.settings)
    return parsed


def _refuse_aliases(text: str) -> None:
    """Anchors and aliases are refused: a few lines of them can stand for billions of
    values (the "billion laughs"), and a project file never needs them."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            problem = "YAML aliases (*name) are not supported in a project file"
            raise ProjectFileError([FileProblem(mark.line + 1, mark.column + 1, "", problem)])


def _duplicate_keys(node: yaml.Node | None, path: str = "") -> list[FileProblem]:
    found: list[FileProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            where = f"{path}.{name}" if path else name
            if name in seen:
                mark = key.start_mark
                found.append(FileProblem(mark.line + 1, mark.column + 1, where, "appears twice"))
            seen.add(name)
            found += _duplicate_keys(value, where)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found += _duplicate_keys(item, f"{path}.{index}")
    return found


def _place(located: list[tuple[Location, str]], root: yaml.Node | None) -> list[FileProblem]:
    problems = []
    for location, message in located:
        location = [int(p) if isinstance(p, str) and p.isdigit() else p for p in location]
        node = _node_at(root, location, at_key=message == "no such field")
        mark = node.start_mark if node is not None else None
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        path = ".".join(str(part) for part in location)
        problems.append(FileProblem(line, column, path, message))
    return sorted(set(problems), key=lambda p: (p.line, p.column, p.path, p.message))


def _is_union_tag(part: Any) -> bool:
    # pydantic names the branch of a union it tried ("int", "literal['S']"); not a place.
    return isinstance(part, str) and ("[" in part or part in {"int", "str", "float", "bool"})


def _node_at(root: yaml.Node | None, location: list[Any], *, at_key: bool) -> yaml.Node | None:
    """The deepest node of the YAML tree along the error's path: the value in error, or
    (`at_key`) the name of a field that should not be there."""
    node = root
    for depth, part in enumerate(location):
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    child = key if at_key and depth == len(location) - 1 else value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            return node
        node = child
    return node


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
    defaults = schema.clean(schema.component_model(component.kind), {})
    settings = {k: v for k, v in component.settings.items() if v != defaults.get(k)}
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
    defaults = schema.clean(model, {})
    settings = {k: v for k, v in link.settings.items() if v != defaults.get(k)}
    out.pop("settings", None)
    if settings:
        out["settings"] = settings
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
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
