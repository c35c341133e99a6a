"""Example projects, as blueprints: the demo, the kitchen sink and the sample shapes.

`python manage.py loaddemo [NAME]` turns one into dashboard rows; the engine
tests and the benchmarks use them directly.
"""

from __future__ import annotations

from collections.abc import Callable

from provisioning.model import samples
from provisioning.model.blueprint import Agent, Blueprint, Component, Link


def demo(project: str = "demo", stage: str = "dev") -> Blueprint:
    """One agent behind an HTTP API."""
    return Blueprint(
        project=project,
        stage=stage,
        agents=(Agent("assistant", description="Answers questions over HTTP"),),
        components=(Component("http_api", "public"),),
        links=(Link("http_api:public", "agent:assistant"),),
    )


def kitchen_sink(project: str = "kitchen-sink", stage: str = "dev") -> Blueprint:
    """Every kind of resource: a VPC over two AZs with one NAT gateway and S3 / DynamoDB /
    bedrock-runtime endpoints, two agents in it sharing one security group, each with its
    own components, both behind one HTTP API; the worker's failed asynchronous invocations
    go to a queue."""
    return Blueprint(
        project=project,
        stage=stage,
        agents=(
            Agent("researcher", timeout_s=60, memory_mb=1024, tools=("http_request",)),
            Agent("worker", timeout_s=60, memory_mb=512, on_failure="queue:failures"),
        ),
        components=(
            Component("http_api", "public", {"cors_origins": ["https://example.com"]}),
            Component("bucket", "papers", {"versioning": True}),
            Component("table", "notes", {"partition_key": "pk", "sort_key": "sk"}),
            Component("queue", "jobs", {"visibility_timeout_s": 360, "dead_letter": True}),
            Component("queue", "alerts", {"fifo": True, "visibility_timeout_s": 60}),
            Component("queue", "failures", {"dead_letter": False}),
            Component("topic", "events", {"fifo": True, "filter_policy": {"severity": ["high"]}}),
        ),
        links=(
            Link("http_api:public", "agent:researcher"),
            Link("http_api:public", "agent:worker"),
            Link("agent:researcher", "bucket:papers", "read_write"),
            Link("agent:researcher", "table:notes", "read"),
            Link("queue:jobs", "agent:worker"),
            Link("agent:worker", "table:notes", "read_write"),
            Link("agent:worker", "topic:events"),
            Link("topic:events", "queue:alerts"),
        ),
        settings={
            "network": {
                "enabled": True,
                "cidr": "10.42.0.0/16",
                "az_count": 2,
                "nat": "single",
                "endpoints": ["s3", "dynamodb", "bedrock-runtime"],
            },
        },
    )


EXAMPLES: dict[str, Callable[..., Blueprint]] = {
    "demo": demo,
    "kitchen-sink": kitchen_sink,
    "weather": samples.weather,
    "restaurant": samples.restaurant,
    "whatsapp": samples.whatsapp,
    "handoff": samples.handoff,
}
