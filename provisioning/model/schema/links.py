"""The settings each kind of link may carry, by (source kind, target kind)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator

from provisioning.model.schema.base import (
    EnvName,
    FilterPolicy,
    Settings,
    check_route_path,
    setting,
)


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
    path: Annotated[str, AfterValidator(check_route_path)] = setting(
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
