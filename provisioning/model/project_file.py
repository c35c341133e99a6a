"""The project file (`strands-deploy.yaml`): a project as reviewable, versioned text.

Version 1 holds the project, its stages, agents, components and links, with every setting
from the node schemas (`schema.py`) and nothing else. Secrets never appear: an agent lists
the names of its secret variables, whose values stay sealed in the dashboard.

`parse` reads text into a `ProjectFile` and reports every problem at once, each with its
line and column in the text and the dotted path of the field; `project_file_text` writes a
file back and compares two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provisioning.model import schema
from provisioning.model.links import split_key

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
