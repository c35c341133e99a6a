"""An agent's settings beyond its name, code and secret variables."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from provisioning.model import bounds
from provisioning.model.schema.base import (
    RULE_DESCRIPTION,
    Cidr,
    Settings,
    bounded,
    setting,
)


# --- agents -----------------------------------------------------------------------------------
class IamStatement(Settings):
    actions: list[Annotated[str, Field(pattern=r"^(\*|[a-z0-9-]+:[A-Za-z0-9*]+)$")]] = setting(
        ..., 'IAM actions, e.g. "ssm:GetParameter".', min_length=1
    )
    resources: list[Annotated[str, Field(min_length=1, max_length=2048)]] = setting(
        ..., 'ARNs, or a project node such as "table:orders" (its ARN is used).', min_length=1
    )


Port = Annotated[int, Field(ge=1, le=65535)]


class EgressRule(Settings):
    """Traffic an agent may send from the stage's VPC, beyond HTTPS to anywhere."""

    protocol: Literal["tcp", "udp"] = setting("tcp", "tcp or udp.")
    port: Port | None = setting(None, "One port, e.g. 5432; or give from_port and to_port.")
    from_port: Port | None = setting(None, "The first port of a range.", group="advanced")
    to_port: Port | None = setting(None, "The last port of a range.", group="advanced")
    cidr: Cidr = setting(None, "Where to, e.g. 10.1.0.0/16 (IPv4 or IPv6).", label="CIDR")
    prefix_list_id: str | None = setting(
        None, "Or a managed prefix list, e.g. pl-0123456789abcdef0.", label="Prefix list",
        group="advanced", pattern=r"^pl-[0-9a-f]{8,17}$",
    )  # fmt: skip
    description: str = setting(
        "", "Why the agent needs it, e.g. orders database.", max_length=255,
        pattern=RULE_DESCRIPTION,
    )  # fmt: skip

    @model_validator(mode="after")
    def _one_port_range_and_one_destination(self) -> EgressRule:
        ranged = self.from_port is not None or self.to_port is not None
        if (self.port is None) == (not ranged):
            raise ValueError("give either port or both from_port and to_port")
        if ranged:
            if self.from_port is None or self.to_port is None:
                raise ValueError("a port range needs both from_port and to_port")
            if self.from_port > self.to_port:
                raise ValueError(f"from_port {self.from_port} is above to_port {self.to_port}")
        if (self.cidr is None) == (self.prefix_list_id is None):
            raise ValueError("give either cidr or prefix_list_id as the destination")
        return self


_AGENT = bounds.AGENT


class AgentSettings(Settings):
    """An agent's settings beyond its name, code and secret variables (those have their own
    editors: an upload and write-only fields)."""

    description: str = setting("", "What the agent is for.")
    model_id: str = setting(
        "global.anthropic.claude-sonnet-4-6", "The Bedrock model or inference profile id.",
        label="Model id", max_length=128,
    )  # fmt: skip
    system_prompt: str = setting("You are a helpful assistant.", "The agent's instructions.")
    tools: list[str] = setting([], "Tools from strands-agents-tools or your own modules.")
    runtime: Literal["python3.12", "python3.13"] = setting("python3.12", "The Lambda runtime.")
    architecture: Literal["x86_64", "arm64"] = setting("x86_64", "arm64 is Graviton.")
    memory_mb: int = bounded(_AGENT["memory_mb"], "Memory; CPU grows with it.",
                             label="Memory (MB)", stage=True)  # fmt: skip
    timeout_s: int = bounded(_AGENT["timeout_s"], "How long one invocation may run.",
                             label="Timeout (s)", stage=True)  # fmt: skip
    environment: dict[str, str] = setting({}, "Plain environment variables.", stage=True)
    reserved_concurrency: int | None = setting(
        None, "Empty: the account's shared pool.", group="advanced", stage=True, ge=0
    )
    tracing: bool = setting(False, "X-Ray tracing.", group="advanced", stage=True)
    model_provider: str = setting("bedrock", "The model provider.", group="advanced")
    model_region: str = setting("", "Bedrock's region; empty: the stage's.", group="advanced")
    max_tokens: int | None = setting(None, "Most tokens per answer.", group="advanced",
                                     ge=1, le=200000)  # fmt: skip
    temperature: float | None = setting(None, "Sampling temperature.", group="advanced",
                                        ge=0, le=2)  # fmt: skip
    tool_settings: dict[str, str] = setting({}, "What chosen tools need.", group="advanced")
    session_bucket: str = setting("", "A bucket that keeps conversations.", group="advanced")
    requirements: list[str] = setting([], "Extra pip requirements.", group="advanced")
    layers: list[str] = setting([], "Extra layer version ARNs.", group="advanced")
    extra_models: list[Annotated[str, Field(min_length=1, max_length=128)]] = setting(
        [], "More model ids the agent may invoke, e.g. the SDK's default for resumed sessions.",
        label="Additional models", group="advanced",
    )  # fmt: skip
    extra_statements: list[IamStatement] = setting(
        [], "Extra IAM statements (actions and resources).", label="Extra permissions",
        group="advanced",
    )  # fmt: skip
    egress_rules: list[EgressRule] = setting(
        [], "Traffic the agent may send from the stage's VPC besides HTTPS, e.g. tcp 5432 to "
        "10.1.0.0/16 (a peered database); only with the stage's network on.",
        label="Egress rules", group="advanced", stage=True,
    )  # fmt: skip
    allow_broad_permissions: bool = setting(
        False, "Allow extra permissions with * actions or resources outside the project, and "
        "egress rules to the whole internet (0.0.0.0/0 or ::/0) on ports other than 443.",
        group="advanced",
    )  # fmt: skip
    on_failure: str = setting(
        "", "A queue or topic of this project (queue:failed) that receives asynchronous "
        "invocations that keep failing.", label="On-failure destination", group="advanced",
        pattern=r"^((queue|topic):[a-z][a-z0-9-]*)?$",
    )  # fmt: skip
    alarms: bool = setting(
        True, "CloudWatch alarms on failed invocations, throttles, slow answers and the daily "
        "token budget, sent to the stage's alarms topic (and the project's notifications).",
        group="advanced", stage=True,
    )  # fmt: skip
    alarm_error_rate_pct: int = bounded(
        _AGENT["alarm_error_rate_pct"], "Alarm when more than this share of invocations fail.",
        label="Error rate alarm (%)", group="advanced", stage=True,
    )  # fmt: skip
    alarm_p95_near_timeout_pct: int = bounded(
        _AGENT["alarm_p95_near_timeout_pct"],
        "Alarm when the p95 duration passes this share of the timeout.",
        label="Slow answers alarm (% of the timeout)", group="advanced", stage=True,
    )  # fmt: skip
    alarm_tokens_per_day: int = bounded(
        _AGENT["alarm_tokens_per_day"],
        "Alarm when the agent's model tokens in a day pass this; 0: no budget alarm.",
        label="Token budget a day", group="advanced", stage=True,
    )  # fmt: skip
