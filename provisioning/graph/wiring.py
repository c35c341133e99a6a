"""What each kind of link wires up: IAM statements, environment variables and resources.

`builder.py` calls one function per (source kind, target kind) pair through `WIRING`;
each records what it adds on a `LinkEffect`, which `resource_graph.explain` shows in the editor.
Links reach here with settings their schema cleaned (`schema.LINKS`): the variable name a
link sets, a subscription's delivery and filter, a route's method and path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from provisioning.graph.api_auth import route_authorization
from provisioning.model import links as L
from provisioning.model.blueprint import Component, Link
from provisioning.model.policy_documents import policy_document, statement
from provisioning.model.spec import Join, Ref, ResourceSpec


@dataclass
class LinkEffect:
    """What one link adds: resources, IAM statements and environment variables."""

    resources: list[str] = field(default_factory=list)
    statements: list[dict[str, Any]] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)


class Wiring(Protocol):
    """The part of the graph builder a wiring function may use."""

    @property
    def components(self) -> Mapping[str, Component]: ...

    queue_topics: dict[str, list[Ref]]
    session_buckets: dict[str, str]
    routes: dict[tuple[str, str], str]
    """(HTTP API key, route key) -> the link that holds that route."""

    def grant(self, agent_key: str, effect: LinkEffect, stmt: dict[str, Any]) -> None: ...

    def env(
        self, link: Link, agent_key: str, effect: LinkEffect, name: str, value: Any
    ) -> None: ...

    def problem(self, link: Link, field: str, message: str) -> None: ...

    def add_for_link(self, effect: LinkEffect, spec: ResourceSpec) -> None: ...


def _function_ref(agent_key: str, attribute: str) -> Ref:
    return Ref(f"agent/{L.node_name(agent_key)}/function", attribute)


def _component_id(key: str) -> str:
    return f"{L.node_kind(key)}/{L.node_name(key)}"


def variable_name(link: Link, *default: str) -> str:
    """The variable a link sets: the link's own `env_name`, else PREFIX_<NODE>[_SUFFIX]."""
    return str(link.settings.get("env_name") or "") or L.env_name(*default)


def _wire_bucket(b: Wiring, link: Link, kind: str, effect: LinkEffect) -> None:
    bucket = _component_id(link.target)
    if kind == "sessions":
        # The agent's own conversations: scoped grants come with the agent (agents.py).
        b.session_buckets[link.source] = bucket
        return
    objects, listing = L.bucket_actions(kind)
    b.grant(link.source, effect, statement(objects, [Join((Ref(bucket, "arn"), "/*"))]))
    b.grant(link.source, effect, statement(listing, [Ref(bucket, "arn")]))
    name = variable_name(link, "BUCKET", L.node_name(link.target))
    b.env(link, link.source, effect, name, Ref(bucket, "name"))


def _wire_table(b: Wiring, link: Link, kind: str, effect: LinkEffect) -> None:
    table = _component_id(link.target)
    arns = [Ref(table, "arn"), Join((Ref(table, "arn"), "/index/*"))]
    b.grant(link.source, effect, statement(L.table_actions(kind), arns))
    name = variable_name(link, "TABLE", L.node_name(link.target))
    b.env(link, link.source, effect, name, Ref(table, "name"))


def _wire_send(b: Wiring, link: Link, kind: str, effect: LinkEffect) -> None:
    queue = _component_id(link.target)
    b.grant(
        link.source,
        effect,
        statement(["sqs:GetQueueAttributes", "sqs:SendMessage"], [Ref(queue, "arn")]),
    )
    name = variable_name(link, "QUEUE", L.node_name(link.target), "URL")
    b.env(link, link.source, effect, name, Ref(queue, "url"))


def _wire_publish(b: Wiring, link: Link, kind: str, effect: LinkEffect) -> None:
    topic = _component_id(link.target)
    b.grant(link.source, effect, statement(["sns:Publish"], [Ref(topic, "arn")]))
    name = variable_name(link, "TOPIC", L.node_name(link.target), "ARN")
    b.env(link, link.source, effect, name, Ref(topic, "arn"))


def _wire_trigger(b: Wiring, link: Link, kind: str, effect: LinkEffect) -> None:
    queue, agent = _component_id(link.source), L.node_name(link.target)
    b.grant(link.target, effect, statement(L.QUEUE_CONSUMER_ACTIONS, [Ref(queue, "arn")]))
    name = variable_name(link, "QUEUE", L.node_name(link.source), "URL")
    b.env(link, link.target, effect, name, Ref(queue, "url"))
    settings = b.components[link.source].settings
    b.add_for_link(
        effect,
        ResourceSpec(
            f"{queue}/trigger/{agent}",
            "lambda:event-source-mapping",
            {
                "function_name": _function_ref(link.target, "name"),
                "event_source_arn": Ref(queue, "arn"),
                "batch_size": settings["batch_size"],
                "maximum_batching_window_s": settings["batching_window_s"],
                "enabled": True,
                "report_batch_item_failures": True,
            },
            node=link.source,
            # The role must hold the receive permissions before AWS accepts the mapping.
            depends_on=(f"agent/{agent}/role",),
        ),
    )


def _wire_topic_queue(b: Wiring, link: Link, kind: str, effect: LinkEffect) -> None:
    topic, queue = _component_id(link.source), _component_id(link.target)
    policy_id = f"{queue}/policy"
    topics = b.queue_topics.setdefault(queue, [])
    topics.append(Ref(topic, "arn"))
    b.add_for_link(
        effect,
        ResourceSpec(
            policy_id,
            "sqs:queue-policy",
            {"queue_url": Ref(queue, "url"), "policy": _queue_policy(queue, topics)},
            node=link.target,
        ),
    )
    b.add_for_link(
        effect,
        ResourceSpec(
            f"{topic}/subscription/{queue}",
            "sns:subscription",
            {
                "topic_arn": Ref(topic, "arn"),
                "protocol": "sqs",
                "endpoint": Ref(queue, "arn"),
                "filter_policy": _filter_policy(b, link),
                "raw_message_delivery": link.settings["raw_message_delivery"],
            },
            node=link.source,
            depends_on=(policy_id,),
        ),
    )


def _filter_policy(b: Wiring, link: Link) -> dict[str, Any] | None:
    """The link's own filter policy, else its topic's: each subscriber may choose its messages."""
    own = link.settings.get("filter_policy")
    return own or b.components[link.source].settings.get("filter_policy") or None


def _queue_policy(queue: str, topics: list[Any]) -> dict[str, Any]:
    return policy_document(
        [
            {
                "Sid": "AllowTopics",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": Ref(queue, "arn"),
                "Condition": {"ArnEquals": {"aws:SourceArn": topics}},
            }
        ]
    )


def _wire_topic_agent(b: Wiring, link: Link, kind: str, effect: LinkEffect) -> None:
    topic, agent = _component_id(link.source), L.node_name(link.target)
    name = variable_name(link, "TOPIC", L.node_name(link.source), "ARN")
    b.env(link, link.target, effect, name, Ref(topic, "arn"))
    permission = f"{topic}/permission/{agent}"
    b.add_for_link(
        effect,
        ResourceSpec(
            permission,
            "lambda:permission",
            {
                "function_name": _function_ref(link.target, "name"),
                "statement_id": f"sns-{L.node_name(link.source)}",
                "action": "lambda:InvokeFunction",
                "principal": "sns.amazonaws.com",
                "source_arn": Ref(topic, "arn"),
            },
            node=link.source,
        ),
    )
    b.add_for_link(
        effect,
        ResourceSpec(
            f"{topic}/subscription/agent/{agent}",
            "sns:subscription",
            {
                "topic_arn": Ref(topic, "arn"),
                "protocol": "lambda",
                "endpoint": _function_ref(link.target, "arn"),
                "filter_policy": _filter_policy(b, link),
                "raw_message_delivery": False,
            },
            node=link.source,
            depends_on=(permission,),
        ),
    )


def route_key(link: Link) -> str:
    """`METHOD /path` of an HTTP API -> agent link: POST /<agent> unless the link says."""
    path = str(link.settings.get("path") or "") or f"/{L.node_name(link.target)}"
    return f"{link.settings.get('method') or 'POST'} {path}"


def route_source_arn_suffix(key: str) -> str:
    """What follows the API's execution ARN in the ARN of requests to one route:
    /<stage>/<METHOD>/<path>, with ANY as * and each {parameter} as * (one path segment,
    or the rest of the path for {name+})."""
    method, path = key.split(" ", 1)
    return f"/*/{'*' if method == 'ANY' else method}{_PARAMETER.sub('*', path)}"


_PARAMETER = re.compile(r"\{[^}]+\}")


def _wire_route(b: Wiring, link: Link, kind: str, effect: LinkEffect) -> None:
    api, agent = _component_id(link.source), L.node_name(link.target)
    api_id = Ref(f"{api}/api", "api_id")
    integration = f"{api}/integration/{agent}"
    key = route_key(link)
    holder = b.routes.setdefault((link.source, key), link.key)
    if holder != link.key:
        b.problem(link, "path", f"{link.source} already sends {key} to {holder.split('->')[1]}")
    name = variable_name(link, "API", L.node_name(link.source), "URL")
    b.env(link, link.target, effect, name, Ref(f"{api}/api", "endpoint"))
    b.add_for_link(
        effect,
        ResourceSpec(
            integration,
            "apigw:integration",
            {
                "api_id": api_id,
                "integration_uri": _function_ref(link.target, "arn"),
                "payload_format_version": "2.0",
                "timeout_ms": 30000,
            },
            node=link.source,
        ),
    )
    b.add_for_link(
        effect,
        ResourceSpec(
            f"{api}/route/{agent}",
            "apigw:route",
            {
                "api_id": api_id,
                "route_key": key,
                "target": Join(("integrations/", Ref(integration, "integration_id"))),
                **route_authorization(b.components[link.source]),
            },
            node=link.source,
        ),
    )
    b.add_for_link(
        effect,
        ResourceSpec(
            f"{api}/permission/{agent}",
            "lambda:permission",
            {
                "function_name": _function_ref(link.target, "name"),
                "statement_id": f"apigw-{L.node_name(link.source)}",
                "action": "lambda:InvokeFunction",
                "principal": "apigateway.amazonaws.com",
                "source_arn": Join(
                    (Ref(f"{api}/api", "execution_arn"), route_source_arn_suffix(key))
                ),
            },
            node=link.source,
        ),
    )


WIRING: dict[tuple[str, str], Callable[[Wiring, Link, str, LinkEffect], None]] = {
    ("agent", "bucket"): _wire_bucket,
    ("agent", "table"): _wire_table,
    ("agent", "queue"): _wire_send,
    ("agent", "topic"): _wire_publish,
    ("queue", "agent"): _wire_trigger,
    ("topic", "queue"): _wire_topic_queue,
    ("topic", "agent"): _wire_topic_agent,
    ("http_api", "agent"): _wire_route,
}
