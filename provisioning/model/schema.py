"""One schema per node kind: every setting a user can give, written once.

Each field carries its type, default, bounds or allowed values and help text, plus what the
dashboard needs to lay it out (`group`: "basic" or "advanced"; `label`), whether a stage may
override it (`stage`) and whether it is secret (`secret`). Validation, the dashboard's forms
and side panel, the blueprint and the project file all read these models; adding a setting is
one entry here plus the engine code that uses it.

The models are pydantic v2 so each one also gives a JSON Schema (`json_schema`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from provisioning.model import bounds, cidr

Group = Literal["basic", "advanced"]


def setting(
    default: Any,
    help: str,
    *,
    label: str = "",
    group: Group = "basic",
    stage: bool = False,
    secret: bool = False,
    **constraints: Any,
) -> Any:
    """A schema field with the dashboard's metadata (see the module's docstring)."""
    extra: dict[str, Any] = {"group": group, "stage": stage, "secret": secret}
    if label:
        extra["label"] = label
    if isinstance(default, list | dict):
        value = default
        return Field(
            default_factory=lambda: type(value)(value),
            description=help,
            json_schema_extra=extra,
            **constraints,
        )
    return Field(default, description=help, json_schema_extra=extra, **constraints)


def bounded(bound: bounds.Bound, help: str, **kwargs: Any) -> Any:
    """A whole number within one of the AWS limits written in `bounds`."""
    return setting(bound.default, help, ge=bound.low, le=bound.high, **kwargs)


# --- value types ------------------------------------------------------------------------------
_ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,254}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Lambda sets these itself and refuses functions that try to.
RESERVED_ENV = frozenset(
    {"_HANDLER", "_X_AMZN_TRACE_ID", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ"}
)
_KMS_KEY = re.compile(
    r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+"
    r"|alias/[A-Za-z0-9/_-]+|[0-9a-f-]{36})$"
)
# The characters EC2 accepts in a security group rule's description.
_RULE_DESCRIPTION = r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$"
_ORIGIN = re.compile(r"^https?://[^\s/]+$")
_ROUTE_PATH = re.compile(r"^/[A-Za-z0-9._~{}+/-]*$")
_ISSUER = re.compile(r"^https://[^\s/]+(/[^\s]*)?$")


def _attribute(value: str) -> str:
    if value and not _ATTRIBUTE.match(value):
        raise ValueError("must be 1-255 letters, digits, '_', '.' or '-', starting with a letter")
    return value


def env_name_problem(value: str) -> str | None:
    """Why a Lambda environment variable cannot have this name, or None."""
    if not _ENV_NAME.match(value):
        return (
            f"{value!r} is not a variable name (letters, digits and _, not starting with a digit)"
        )
    if value.startswith("AWS_") or value in RESERVED_ENV:
        return f"{value} is reserved by AWS Lambda"
    return None


def _env_name(value: str) -> str:
    problem = value and env_name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _kms_key(value: str | None) -> str | None:
    if value and not _KMS_KEY.match(value):
        raise ValueError("must be a KMS key id, key ARN or alias/name")
    return value or None


def _origins(values: list[str]) -> list[str]:
    for origin in values:
        if origin != "*" and not _ORIGIN.match(origin):
            raise ValueError(f"{origin!r} is not an origin like https://example.com or *")
    return values


def _network(value: str | None) -> str | None:
    """A CIDR as a network: host bits set are refused, since the user meant a range."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_network(value.strip()))
    except ValueError:
        try:
            wider = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not a CIDR like 10.1.0.0/16 or 2001:db8::/32") from None
        raise ValueError(f"{value} has host bits set; the network is {wider}") from None


def _filter_policy(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    return {str(k): v if isinstance(v, list) else [v] for k, v in value.items()}


def _route_path(value: str) -> str:
    if value and (not _ROUTE_PATH.match(value) or "//" in value):
        raise ValueError("must start with / and hold only URL path characters, e.g. /chat/{id}")
    return value


def _issuer(value: str) -> str:
    if value and not _ISSUER.match(value):
        raise ValueError(
            "must be an https URL, e.g. https://cognito-idp.<region>.amazonaws.com/<pool>"
        )
    return value


AttributeName = Annotated[str, AfterValidator(_attribute)]
EnvName = Annotated[str, AfterValidator(_env_name)]
KmsKey = Annotated[str | None, AfterValidator(_kms_key)]
Cidr = Annotated[str | None, AfterValidator(_network)]
FilterPolicy = Annotated[dict[str, Any] | None, AfterValidator(_filter_policy)]
KeyType = Literal["S", "N", "B"]
KEY_TYPE_HELP = "S string, N number, B binary."


class Settings(BaseModel):
    """Unknown names are refused: a typo is an error, not a silently ignored setting."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


# --- components -------------------------------------------------------------------------------
class BucketSettings(Settings):
    versioning: bool = setting(False, "Keep every version of each object.")
    kms_key_id: KmsKey = setting(
        None, "Encrypt with this KMS key (id, ARN or alias/name); empty: S3-managed keys.",
        label="KMS key", group="advanced",
    )  # fmt: skip
    tls_only: bool = setting(
        True, "A bucket policy that refuses any request not made over TLS.",
        label="TLS only", group="advanced",
    )  # fmt: skip


class SecondaryIndex(Settings):
    name: AttributeName = setting(..., "The index's name.")
    partition_key: AttributeName = setting(..., "The index's partition key attribute.")
    partition_key_type: KeyType = setting("S", KEY_TYPE_HELP)
    sort_key: AttributeName = setting("", "The index's sort key attribute (optional).")
    sort_key_type: KeyType = setting("S", KEY_TYPE_HELP)
    projection: Literal["ALL", "KEYS_ONLY"] = setting("ALL", "Which attributes the index holds.")


_TABLE = bounds.COMPONENT["table"]


class TableSettings(Settings):
    partition_key: AttributeName = setting("pk", "The partition key attribute.")
    partition_key_type: KeyType = setting("S", KEY_TYPE_HELP, label="Partition key type")
    sort_key: AttributeName = setting("", "The sort key attribute (optional).")
    sort_key_type: KeyType = setting("S", KEY_TYPE_HELP, label="Sort key type")
    billing_mode: Literal["PAY_PER_REQUEST", "PROVISIONED"] = setting(
        "PAY_PER_REQUEST", "On demand, or provisioned read and write capacity."
    )
    read_capacity: int = bounded(
        _TABLE["read_capacity"], "Read capacity units (provisioned only).", group="advanced"
    )
    write_capacity: int = bounded(
        _TABLE["write_capacity"], "Write capacity units (provisioned only).", group="advanced"
    )
    ttl_attribute: AttributeName = setting(
        "", "An attribute holding an epoch time after which DynamoDB deletes the item.",
        label="TTL attribute", group="advanced",
    )  # fmt: skip
    stream_view_type: (
        Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"] | None
    ) = setting(None, "Publish item changes to a stream.", label="Stream", group="advanced")
    point_in_time_recovery: bool = setting(
        False, "Continuous backups for the last 35 days.", group="advanced"
    )
    global_secondary_indexes: list[SecondaryIndex] = setting(
        [], "Other keys to query by, across the whole table.", label="Global indexes",
        group="advanced",
    )  # fmt: skip
    local_secondary_indexes: list[SecondaryIndex] = setting(
        [], "Other sort keys within a partition (same partition key; set at creation only).",
        label="Local indexes", group="advanced",
    )  # fmt: skip


_QUEUE = bounds.COMPONENT["queue"]


class QueueSettings(Settings):
    fifo: bool = setting(False, "Ordered, exactly-once delivery.", label="FIFO")
    content_based_deduplication: bool = setting(
        False, "FIFO only: deduplicate by a hash of the body.", group="advanced"
    )
    visibility_timeout_s: int = bounded(
        _QUEUE["visibility_timeout_s"],
        "At least six times the timeout of an agent this queue triggers.",
        label="Visibility timeout (s)",
    )
    message_retention_s: int = bounded(
        _QUEUE["message_retention_s"], "How long a message waits.", group="advanced",
        label="Retention (s)",
    )  # fmt: skip
    receive_wait_time_s: int = bounded(
        _QUEUE["receive_wait_time_s"], "Long polling wait.", group="advanced",
        label="Receive wait (s)",
    )  # fmt: skip
    delay_s: int = bounded(
        _QUEUE["delay_s"], "Delay before a new message is visible.", group="advanced",
        label="Delivery delay (s)",
    )  # fmt: skip
    dead_letter: bool = setting(
        True, "Move messages that keep failing to a second queue.", label="Dead-letter queue"
    )
    max_receive_count: int = bounded(
        _QUEUE["max_receive_count"], "Receives before a message goes to the dead-letter queue.",
        group="advanced",
    )  # fmt: skip
    batch_size: int = bounded(
        _QUEUE["batch_size"], "Messages per invocation of a triggered agent.", group="advanced"
    )
    batching_window_s: int = setting(
        0, "Seconds to gather a batch before invoking a triggered agent.",
        label="Batching window (s)", group="advanced", ge=0, le=300,
    )  # fmt: skip
    kms_master_key_id: KmsKey = setting(
        None, "Encrypt with this KMS key; empty: SQS-managed keys.", label="KMS key",
        group="advanced",
    )  # fmt: skip


class TopicSettings(Settings):
    fifo: bool = setting(False, "Ordered, exactly-once delivery.", label="FIFO")
    content_based_deduplication: bool = setting(
        False, "FIFO only: deduplicate by a hash of the body.", group="advanced"
    )
    display_name: str = setting(
        "", "The sender name of SMS and e-mail messages.", group="advanced", max_length=100
    )
    filter_policy: FilterPolicy = setting(
        None, 'Deliver to every subscriber only messages matching, e.g. {"severity": ["high"]}; '
        "a subscription link may set its own.", group="advanced",
    )  # fmt: skip
    kms_master_key_id: KmsKey = setting(
        None, "Encrypt with this KMS key; empty: unencrypted at rest.", label="KMS key",
        group="advanced",
    )  # fmt: skip


_HTTP_API = bounds.COMPONENT["http_api"]
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"]


class ApiKeyLabel(Settings):
    """What the dashboard shows of an issued API key; the key itself is kept only as a hash."""

    id: str = setting(..., "The first 12 hex digits of the key's SHA-256 hash.",
                      pattern=r"^[0-9a-f]{12}$")  # fmt: skip
    prefix: str = setting("", "The key's first characters, to recognise it.", max_length=16)
    label: str = setting("", "Who or what the key is for.", max_length=64)
    created_at: str = setting("", "When the key was made (ISO 8601).", max_length=40)


class HttpApiSettings(Settings):
    cors_origins: Annotated[list[str], AfterValidator(_origins)] = setting(
        ["*"], "Origins allowed to call the API from a browser; * for any.", label="CORS origins"
    )
    cors_methods: list[HttpMethod] = setting(
        ["GET", "OPTIONS", "POST"], "Methods a browser may use across origins.",
        label="CORS methods", group="advanced",
    )  # fmt: skip
    # IAM by default: it works from the first deploy with the credentials the team deploys
    # with (curl --aws-sigv4), adds no resource, no secret to hand out and nothing to rotate;
    # an API key needs a key issued first, and "none" lets anyone spend the agents' tokens.
    auth: Literal["iam", "jwt", "api_key", "none"] = setting(
        "iam", "Who may call the API: AWS-signed requests (iam), a bearer token from your "
        "identity provider (jwt), an x-api-key header (api_key), or anyone (none).",
        label="Authentication",
    )  # fmt: skip
    jwt_issuer: Annotated[str, AfterValidator(_issuer)] = setting(
        "", "jwt: the token issuer's URL (its iss claim).", label="JWT issuer", max_length=2048
    )
    jwt_audience: list[Annotated[str, Field(min_length=1, max_length=256)]] = setting(
        [], "jwt: accepted aud (or client_id) values.", label="JWT audience"
    )
    api_key_hashes: str = setting(
        "", "api_key: the SHA-256 hashes (hex) of the accepted keys, a JSON list or one per "
        "line; empty: no key is accepted yet.", label="API key hashes", group="advanced",
        secret=True,
    )  # fmt: skip
    api_key_labels: list[ApiKeyLabel] = setting(
        [], "api_key: a label and creation date per issued key, matched to its hash by the "
        "hash's first digits (not secret: it holds no key).", label="API key labels",
        group="advanced",
    )  # fmt: skip
    throttle_rate: int = bounded(
        _HTTP_API["throttle_rate"], "Steady requests per second the API lets through.",
        label="Throttle (requests/s)",
    )  # fmt: skip
    throttle_burst: int = bounded(
        _HTTP_API["throttle_burst"], "Requests the API lets through at once above the rate.",
        label="Throttle burst", group="advanced",
    )  # fmt: skip


COMPONENTS: dict[str, type[Settings]] = {
    "bucket": BucketSettings,
    "table": TableSettings,
    "queue": QueueSettings,
    "topic": TopicSettings,
    "http_api": HttpApiSettings,
}


# --- links ------------------------------------------------------------------------------------
def _env_help(default: str) -> str:
    return f"The variable the agent's code reads; empty: {default}."


class NoLinkSettings(Settings):
    pass


class BucketLinkSettings(Settings):
    env_name: EnvName = setting("", _env_help("BUCKET_<NAME>"), label="Variable name")


class TableLinkSettings(Settings):
    env_name: EnvName = setting("", _env_help("TABLE_<NAME>"), label="Variable name")


class SendLinkSettings(Settings):
    env_name: EnvName = setting("", _env_help("QUEUE_<NAME>_URL"), label="Variable name")


class PublishLinkSettings(Settings):
    env_name: EnvName = setting("", _env_help("TOPIC_<NAME>_ARN"), label="Variable name")


class TriggerLinkSettings(Settings):
    env_name: EnvName = setting(
        "", _env_help("QUEUE_<NAME>_URL") + " It holds the triggering queue's URL.",
        label="Variable name",
    )  # fmt: skip


class QueueSubscriptionSettings(Settings):
    raw_message_delivery: bool = setting(
        True, "Deliver the message body alone; off: the SNS envelope (JSON with Message, "
        "MessageAttributes, ...).", label="Raw message delivery",
    )  # fmt: skip
    filter_policy: FilterPolicy = setting(
        None, "Only messages matching this SNS filter policy; empty: the topic's.",
        group="advanced",
    )  # fmt: skip


class AgentSubscriptionSettings(Settings):
    env_name: EnvName = setting(
        "", _env_help("TOPIC_<NAME>_ARN") + " It holds the topic's ARN.", label="Variable name"
    )
    filter_policy: FilterPolicy = setting(
        None, "Only messages matching this SNS filter policy; empty: the topic's.",
        group="advanced",
    )  # fmt: skip


RouteMethod = Literal["ANY", "GET", "POST", "PUT", "PATCH", "DELETE"]


class RouteLinkSettings(Settings):
    method: RouteMethod = setting("POST", "The HTTP method of the route.")
    path: Annotated[str, AfterValidator(_route_path)] = setting(
        "", "The route's path, e.g. /chat or /orders/{id}; empty: /<agent>.", max_length=256
    )
    env_name: EnvName = setting(
        "", _env_help("API_<NAME>_URL") + " It holds the API's URL.", label="Variable name"
    )


# (source kind, target kind) -> the settings every link between them may carry.
LINKS: dict[tuple[str, str], type[Settings]] = {
    ("agent", "bucket"): BucketLinkSettings,
    ("agent", "table"): TableLinkSettings,
    ("agent", "queue"): SendLinkSettings,
    ("agent", "topic"): PublishLinkSettings,
    ("queue", "agent"): TriggerLinkSettings,
    ("topic", "queue"): QueueSubscriptionSettings,
    ("topic", "agent"): AgentSubscriptionSettings,
    ("http_api", "agent"): RouteLinkSettings,
}


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
        pattern=_RULE_DESCRIPTION,
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


# --- stages -----------------------------------------------------------------------------------
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                      1827, 2192, 2557, 2922, 3288, 3653)  # fmt: skip


def _vpc_cidr(value: str | None) -> str | None:
    problems = cidr.cidr_problems(value) if value else []
    if problems:
        raise ValueError(problems[0])
    return value or None


class NetworkSettings(Settings):
    enabled: bool = setting(False, "Run the agents inside a VPC of their own.", label="VPC")
    cidr: Annotated[str | None, AfterValidator(_vpc_cidr)] = setting(
        None, "The VPC's range, e.g. 10.20.0.0/16.", label="CIDR"
    )
    ipam_pool_id: str | None = setting(
        None, "Take the range from this IPAM pool instead.", label="IPAM pool", group="advanced"
    )
    ipam_netmask_length: int = setting(16, "The IPAM allocation's size.", group="advanced",
                                       ge=16, le=28)  # fmt: skip
    az_count: int = setting(2, "Availability zones.", label="AZs", ge=1, le=6)
    nat: Literal["none", "single", "per_az"] = setting(
        "single", "Internet egress: none (endpoints only), one NAT, or one per AZ.", label="NAT"
    )
    endpoints: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")]] = setting(
        [], "VPC endpoints, e.g. s3, dynamodb, bedrock-runtime.", group="advanced"
    )
    avoid_cidrs: list[str] = setting(
        [], "Ranges this network must not overlap (peered networks).", group="advanced"
    )

    @model_validator(mode="after")
    def _has_a_range(self) -> NetworkSettings:
        # The layout needs a range to cut subnets from; without one there is nothing to build.
        if self.enabled and not self.cidr and not self.ipam_pool_id:
            raise PydanticCustomError(
                "network_range", "give a CIDR (e.g. 10.20.0.0/16) or an IPAM pool id"
            )
        if self.cidr and not self.ipam_pool_id:
            prefix = int(self.cidr.rpartition("/")[2])
            if cidr.subnet_prefix(prefix, 2 * self.az_count) > cidr.MAX_PREFIX:
                raise PydanticCustomError(
                    "network_range",
                    "{cidr} is too small for {count} subnets (public and private per AZ)",
                    {"cidr": self.cidr, "count": 2 * self.az_count},
                )
        return self


class StageSettings(Settings):
    log_retention_days: Literal[LOG_RETENTION_DAYS] = setting(  # type: ignore[valid-type]
        14, "How long CloudWatch keeps the agents' logs.", label="Log retention (days)"
    )
    shared_role: Literal["identical", "same_grants", "all", "none"] = setting(
        "identical", "Share execution roles: between agents with the same grants (each still "
        "writes only its own logs), the same grants with each other's logs too, all agents, "
        "or none.", label="Role sharing",
        group="advanced",
    )  # fmt: skip
    dependencies: Literal["layer", "official", "none"] = setting(
        "layer", "The SDK and tools: a layer built with pip, the official Strands layer, "
        "or your own layers only.", group="advanced",
    )  # fmt: skip
    strands_layer_arn: str = setting(
        "", "The official Strands layer's version ARN (dependencies: official).",
        label="Strands layer ARN", group="advanced",
    )  # fmt: skip
    secrets_kms_key_id: KmsKey = setting(
        None, "Encrypt secret variables with this KMS key; empty: the AWS-managed SSM key.",
        label="Secrets KMS key", group="advanced",
    )  # fmt: skip
    network: NetworkSettings = setting(NetworkSettings(), "The agents' network.")
    permissions_boundary: str = setting(
        "", "A managed policy ARN that bounds every execution role this stage creates.",
        label="Permissions boundary", group="advanced",
        pattern=r"^(arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[A-Za-z0-9+=,.@_/-]+)?$",
        max_length=2048,
    )  # fmt: skip


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
