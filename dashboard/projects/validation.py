"""Rules for what a canvas may hold: component settings, links, environment variables,
pip requirements.

Pure functions raising `ValueError(field, message)`-style `RuleError`s; services turn
them into `ServiceError`s. Forms may read the tables here to offer choices.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from dashboard.projects.aws_fields import clean_public_url
from dashboard.projects.models import Component
from provisioning import engine
from provisioning.model import bounds, links
from provisioning.model.naming import reserved_name_problem


class RuleError(ValueError):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("must be true or false")


def _int_between(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"must be a whole number from {low} to {high}")
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"must be a whole number from {low} to {high}") from None
        if not low <= number <= high:
            raise ValueError(f"must be from {low} to {high}")
        return number

    return check


def _bounded(kind: str, field: str) -> tuple[int, Callable[[Any], int]]:
    """A numeric setting's default and check, from the engine's one table of AWS limits."""
    bound = bounds.COMPONENT[kind][field]
    return bound.default, _int_between(bound.low, bound.high)


def _choice(*options: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of: {', '.join(options)}")
        return str(value)

    return check


_ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,254}$")


def _attribute_name(required: bool) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = str(value or "").strip()
        if not text and not required:
            return ""
        if not _ATTRIBUTE.match(text):
            raise ValueError(
                "must be 1-255 letters, digits, '_', '.' or '-', starting with a letter"
            )
        return text

    return check


def _origins(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.replace(",", "\n").splitlines()]
    if not isinstance(value, list | tuple):
        raise ValueError("must be a list of origins")
    origins = [str(v).strip() for v in value if str(v).strip()]
    for origin in origins:
        if origin != "*" and not re.match(r"^https?://[^\s/]+$", origin):
            raise ValueError(f"{origin!r} is not an origin like https://example.com or *")
        if origin != "*":
            clean_public_url(origin)  # no private, loopback or link-local hosts
    return origins


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def optional(value: Any) -> Any:
        return None if value in (None, "") else check(value)

    return optional


_KMS_KEY = re.compile(
    r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+|alias/[A-Za-z0-9/_-]+|[0-9a-f-]{36})$"
)


def _kms_key(value: Any) -> str:
    text = str(value).strip()
    if not _KMS_KEY.match(text):
        raise ValueError("must be a KMS key id, key ARN or alias/name")
    return text


def _filter_policy(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError('must be an SNS filter policy like {"severity": ["high"]}')
    return {str(k): v if isinstance(v, list) else [v] for k, v in value.items()}


# kind -> setting -> (default, check). Defaults are what a new component gets; the names
# are the ones provisioning/graph/components.py reads.
COMPONENT_SETTINGS: dict[str, dict[str, tuple[Any, Callable[[Any], Any]]]] = {
    Component.Kind.HTTP_API: {"cors_origins": (["*"], _origins)},
    Component.Kind.BUCKET: {
        "versioning": (False, _bool),
        "kms_key_id": (None, _optional(_kms_key)),
    },
    Component.Kind.TABLE: {
        "partition_key": ("pk", _attribute_name(required=True)),
        "sort_key": ("", _attribute_name(required=False)),
        "billing_mode": ("PAY_PER_REQUEST", _choice("PAY_PER_REQUEST", "PROVISIONED")),
        "read_capacity": _bounded("table", "read_capacity"),
        "write_capacity": _bounded("table", "write_capacity"),
        "stream_view_type": (
            None,
            _optional(_choice("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")),
        ),
        "point_in_time_recovery": (False, _bool),
    },
    Component.Kind.QUEUE: {
        "fifo": (False, _bool),
        "content_based_deduplication": (False, _bool),
        "visibility_timeout_s": _bounded("queue", "visibility_timeout_s"),
        "message_retention_s": _bounded("queue", "message_retention_s"),
        "receive_wait_time_s": _bounded("queue", "receive_wait_time_s"),
        "delay_s": _bounded("queue", "delay_s"),
        "dead_letter": (True, _bool),
        "max_receive_count": _bounded("queue", "max_receive_count"),
        "batch_size": _bounded("queue", "batch_size"),
        "kms_master_key_id": (None, _optional(_kms_key)),
    },
    Component.Kind.TOPIC: {
        "fifo": (False, _bool),
        "content_based_deduplication": (False, _bool),
        "filter_policy": (None, _optional(_filter_policy)),
        "kms_master_key_id": (None, _optional(_kms_key)),
    },
}


def clean_component_settings(kind: str, settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults filled in, unknown names refused, each value checked and normalised."""
    if kind not in COMPONENT_SETTINGS:
        raise RuleError("kind", f"unknown component kind {kind!r}")
    schema = COMPONENT_SETTINGS[kind]
    given = dict(settings or {})
    unknown = sorted(set(given) - set(schema))
    if unknown:
        raise RuleError(unknown[0], f"a {kind} has no setting {unknown[0]!r}")
    cleaned: dict[str, Any] = {}
    for name, (default, check) in schema.items():
        try:
            cleaned[name] = check(given.get(name, default))
        except ValueError as exc:
            raise RuleError(name, f"{name}: {exc}") from None
    return cleaned


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


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Lambda sets these itself and refuses functions that try to.
_RESERVED_ENV = {"_HANDLER", "_X_AMZN_TRACE_ID", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ"}


def clean_environment(environment: Any) -> dict[str, str]:
    if environment in (None, ""):
        return {}
    if not isinstance(environment, Mapping):
        raise RuleError("environment", "environment must be NAME=value pairs")
    cleaned: dict[str, str] = {}
    for name, value in environment.items():
        name = str(name).strip()
        if not _ENV_NAME.match(name):
            raise RuleError("environment", f"{name!r} is not a valid variable name")
        if name.startswith("AWS_") or name in _RESERVED_ENV:
            raise RuleError("environment", f"{name} is reserved by AWS Lambda")
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
