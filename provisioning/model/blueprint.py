"""What the user wants deployed: agents, components, links and stage settings.

A `Blueprint` is plain, frozen data. The dashboard builds one from its models
(dashboard/projects/blueprint.py is the only translation point) and stores its JSON form
as the deployment's snapshot; `Blueprint.from_dict(b.to_dict()) == b`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from provisioning.model.bounds import AGENT as AGENT_BOUNDS

AGENT = "agent"
COMPONENT_KINDS = ("bucket", "table", "queue", "topic", "http_api")


@dataclass(frozen=True)
class Agent:
    name: str
    model_id: str = "global.anthropic.claude-sonnet-4-6"
    description: str = ""
    system_prompt: str = "You are a helpful assistant."
    tools: tuple[str, ...] = ()
    runtime: str = "python3.12"
    architecture: str = "x86_64"
    memory_mb: int = 1024
    timeout_s: int = 120
    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Secret environment variables: NAME -> an opaque reference (never the value). Each
    becomes an SSM SecureString the function reads at cold start; see provisioners/ssm.py."""
    reserved_concurrency: int | None = None
    tracing: bool = False
    # The model, conversation sessions, custom code and dependencies.
    model_provider: str = "bedrock"
    """"bedrock" or another provider the SDK supports (provisioning/graph/agent_needs.py PROVIDERS)."""
    model_region: str = ""
    """Bedrock's region; empty means the stage's region."""
    max_tokens: int | None = None
    temperature: float | None = None
    tool_settings: Mapping[str, str] = field(default_factory=dict)
    """What chosen tools need: {"knowledge_base_id": "KB12345678"} (tools_catalogue.py)."""
    session_bucket: str = ""
    """A bucket component's name: the agent keeps conversations there (S3SessionManager)."""
    code: Mapping[str, str] = field(default_factory=dict)
    """Custom code instead of the generated handler: {"kind": "zip" | "directory",
    "path": ..., "handler": "app.handler", "requirements": "requirements.txt"}."""
    requirements: tuple[str, ...] = ()
    """Extra pip requirements for the dependency layer."""
    layers: tuple[str, ...] = ()
    """Extra layer version ARNs the function uses as given."""
    extra_models: tuple[str, ...] = ()
    """More Bedrock model ids the agent may invoke (e.g. the SDK's default for resumed sessions)."""
    extra_statements: tuple[Mapping[str, Any], ...] = ()
    """Custom IAM statements: {"actions": [...], "resources": [...]}; a resource may name a
    project node ("table:orders") and is resolved to its ARN."""
    egress_rules: tuple[Mapping[str, Any], ...] = ()
    """Traffic the agent may send from the stage's VPC besides HTTPS: {"protocol": "tcp",
    "port": 5432 (or "from_port" and "to_port"), "cidr": "10.1.0.0/16" (or "prefix_list_id"),
    "description": ...} (schema.EgressRule)."""
    allow_broad_permissions: bool = False
    """The user confirmed statements with `*` actions or resources beyond the project, and
    egress rules to the whole internet on ports other than 443."""
    on_failure: str = ""
    """A queue or topic node key that receives asynchronous invocations that keep failing."""
    alarms: bool = True
    """CloudWatch alarms on the function (graph/alarms.py), with these thresholds:"""
    alarm_error_rate_pct: int = AGENT_BOUNDS["alarm_error_rate_pct"].default
    alarm_p95_near_timeout_pct: int = AGENT_BOUNDS["alarm_p95_near_timeout_pct"].default
    alarm_tokens_per_day: int = AGENT_BOUNDS["alarm_tokens_per_day"].default

    @property
    def key(self) -> str:
        return f"{AGENT}:{self.name}"


@dataclass(frozen=True)
class Component:
    kind: str
    """One of COMPONENT_KINDS."""
    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class Link:
    source: str
    """A node key: "agent:support", "http_api:public", ..."""
    target: str
    kind: str = ""
    """Where several kinds fit the two node types: "read" / "read_write" / "" (the default)."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Per-link options from `schema.LINKS` (variable name, raw delivery, route method and path)."""

    @property
    def key(self) -> str:
        return f"{self.source}->{self.target}"


@dataclass(frozen=True)
class Blueprint:
    project: str
    stage: str
    region: str = "us-east-1"
    agents: tuple[Agent, ...] = ()
    components: tuple[Component, ...] = ()
    links: tuple[Link, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Stage-wide options, e.g. {"log_retention_days": 14, "permissions_boundary": arn}."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Blueprint:
        return cls(
            project=data["project"],
            stage=data["stage"],
            region=data.get("region", "us-east-1"),
            agents=tuple(_agent_from_dict(a) for a in data.get("agents", ())),
            components=tuple(Component(**c) for c in data.get("components", ())),
            links=tuple(Link(**link) for link in data.get("links", ())),
            settings=dict(data.get("settings", {})),
        )


def _agent_from_dict(data: Mapping[str, Any]) -> Agent:
    listed = (
        "tools",
        "requirements",
        "layers",
        "extra_models",
        "extra_statements",
        "egress_rules",
    )
    tuples = {k: tuple(data[k]) for k in listed if k in data}
    return Agent(**{**data, **tuples})
