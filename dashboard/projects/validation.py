"""Rules for what a canvas may hold: component settings, links, environment variables,
pip requirements.

Pure functions raising `ValueError(field, message)`-style `RuleError`s; services turn
them into `ServiceError`s. Forms may read the tables here to offer choices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dashboard.projects.aws_fields import clean_public_url
from dashboard.projects.models import Component
from dashboard.projects.schema_forms import problem_message
from provisioning import engine
from provisioning.model import links, schema
from provisioning.model.naming import reserved_name_problem


class RuleError(ValueError):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def clean_settings(
    model: type[schema.Settings], given: Mapping[str, Any] | None, *, noun: str = ""
) -> dict[str, Any]:
    """`schema.clean`, its first problem as a RuleError on the top-level field it names
    ("a bucket has no setting 'colour'", "visibility_timeout_s: must be from 0 to 43200")."""
    try:
        return schema.clean(model, given)
    except schema.SettingsError as exc:
        path, message = exc.problems[0]
        field = path.split(".")[0]
        if message == "no such setting" and noun:
            raise RuleError(field, f"{noun} has no setting {path!r}") from None
        raise RuleError(field, f"{path}: {problem_message(model, path, message)}") from None


def clean_component_extras(kind: str, settings: Mapping[str, Any]) -> None:
    """What the schema cannot know: an HTTP API's CORS origins must be public hosts."""
    if kind == Component.Kind.HTTP_API:
        for origin in settings.get("cors_origins") or []:
            if origin != "*":
                try:
                    clean_public_url(origin)  # no private, loopback or link-local hosts
                except ValueError as exc:
                    raise RuleError("cors_origins", f"cors_origins: {exc}") from None


# (source kind, target kind) -> allowed link kinds, the default first: the engine's table.
LINK_RULES = links.ALLOWED


_NOUNS = {"agent": "an agent", "http_api": "an HTTP API"}


def _a(kind: str) -> str:
    return _NOUNS.get(kind, f"a {kind}")


def clean_link_kind(source: str, target: str, kind: str) -> str:
    if source == target:
        raise RuleError("target", "a node cannot be linked to itself")
    pair = (links.node_kind(source), links.node_kind(target))
    allowed = LINK_RULES.get(pair)
    if allowed is None:
        raise RuleError("target", f"{_a(pair[0])} cannot be linked to {_a(pair[1])}")
    if not kind:
        return allowed[0]
    if kind not in allowed:
        raise RuleError(
            "kind", f"a link from {_a(pair[0])} to {_a(pair[1])} is one of: {', '.join(allowed)}"
        )
    return kind


def clean_node_name(name: Any) -> str:
    """An agent's or component's name, refused when the stage's own resources use it
    (a bucket called `artifacts` would be the stage's artifacts bucket)."""
    problem = reserved_name_problem(str(name))
    if problem:
        raise RuleError("name", problem)
    return str(name)


def clean_environment(environment: Any) -> dict[str, str]:
    if environment in (None, ""):
        return {}
    if not isinstance(environment, Mapping):
        raise RuleError("environment", "environment must be NAME=value pairs")
    cleaned: dict[str, str] = {}
    for name, value in environment.items():
        name = str(name).strip()
        problem = schema.env_name_problem(name)
        if problem:
            raise RuleError("environment", problem)
        cleaned[name] = str(value)
    return cleaned


def clean_model(*, provider: Any, model_id: Any, model_region: Any) -> None:
    """The engine's own check of the model id and region (they end up in IAM ARNs)."""
    problems = engine.model_problems(
        provider=provider, model_id=model_id, model_region=model_region
    )
    if problems:
        field, message = problems[0]
        raise RuleError(field, message)


def clean_tools(tools: Any) -> list[str]:
    if tools in (None, ""):
        return []
    if isinstance(tools, str):
        tools = [t.strip() for t in tools.replace(",", "\n").splitlines()]
    if not isinstance(tools, list | tuple):
        raise RuleError("tools", "tools must be a list of names")
    return [str(t).strip() for t in tools if str(t).strip()]


def clean_requirements(requirements: Any) -> list[str]:
    """Extra pip requirements: a list of lines, or text with one per line. Comments and
    blank lines go; a URL, path or pip option is refused, never stored."""
    if requirements in (None, ""):
        return []
    if isinstance(requirements, list | tuple) and all(isinstance(r, str) for r in requirements):
        requirements = "\n".join(requirements)
    if not isinstance(requirements, str):
        raise RuleError("requirements", "requirements must be a list of pip requirements")
    try:
        return engine.parse_requirements(requirements)
    except engine.RequirementRefused as exc:
        raise RuleError("requirements", str(exc)) from None


# (source kind, target kind) -> the default variable's prefix and suffix around the other node's
# name, and what it holds: the engine's names (provisioning/graph/wiring.py), e.g. TABLE_ORDERS.
_LINK_VARIABLES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("agent", "bucket"): ("BUCKET", "", "name"),
    ("agent", "table"): ("TABLE", "", "name"),
    ("agent", "queue"): ("QUEUE", "URL", "url"),
    ("agent", "topic"): ("TOPIC", "ARN", "arn"),
    ("queue", "agent"): ("QUEUE", "URL", "url"),
    ("topic", "agent"): ("TOPIC", "ARN", "arn"),
    ("http_api", "agent"): ("API", "URL", "url"),
}


def link_variable(
    source: str, target: str, kind: str, settings: Mapping[str, Any] | None
) -> tuple[str, str, str] | None:
    """(agent key, variable name, what it holds) a link gives its agent, or None."""
    pair = (links.node_kind(source), links.node_kind(target))
    known = _LINK_VARIABLES.get(pair)
    if known is None or kind == "sessions":  # a sessions bucket is the agent's own, no variable
        return None
    agent, other = (source, target) if pair[0] == "agent" else (target, source)
    prefix, suffix, holds = known
    name = str((settings or {}).get("env_name") or "")
    name = name or links.env_name(prefix, links.node_name(other), *([suffix] if suffix else []))
    return agent, name, f"{other}.{holds}"


def _describe_link(agent: str, source: str, target: str) -> str:
    other = target if source == agent else source
    kind, name = links.split_key(other)
    return f"the link to {kind.replace('_', ' ')} {name}"


def clean_variable_names(
    *,
    agent: str,
    environment: Mapping[str, Any],
    secret_names: Iterable[str],
    link_rows: Iterable[tuple[str, str, str, Mapping[str, Any] | None]],
    field: str,
) -> None:
    """Refuse two things that set the same variable of one agent (its environment, its secret
    variables, its links) unless they are links giving the same value (a queue it both
    sends to and is triggered by)."""
    seen: dict[str, tuple[str, str | None]] = {}  # name -> (who sets it, the value it holds)
    for name in environment:
        seen[str(name)] = ("its environment", None)
    for name in secret_names:
        if name in seen:
            raise RuleError(field, f"{name} is both a plain and a secret variable")
        seen[name] = ("its secret variables", None)
    for source, target, kind, settings in link_rows:
        found = link_variable(source, target, kind, settings)
        if found is None or found[0] != agent:
            continue
        _agent, name, holds = found
        who = _describe_link(agent, source, target)
        if name in seen and (seen[name][1] is None or seen[name][1] != holds):
            raise RuleError(
                field,
                f"{links.node_name(agent)} would get {name} twice: from {seen[name][0]} "
                f"and from {who}; give one of them another variable name",
            )
        seen.setdefault(name, (who, holds))
