"""The settings of each component kind: bucket, table, queue, topic, HTTP API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from provisioning.model import bounds
from provisioning.model.schema.base import (
    KEY_TYPE_HELP,
    AttributeName,
    FilterPolicy,
    KeyType,
    KmsKey,
    Settings,
    bounded,
    check_issuer,
    check_origins,
    setting,
)


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
    cors_origins: Annotated[list[str], AfterValidator(check_origins)] = setting(
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
    jwt_issuer: Annotated[str, AfterValidator(check_issuer)] = setting(
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
