"""Four project shapes taken from public Strands samples, as a user builds them on the canvas.

Each says what its sample's code needs: the variable names it reads at import time, the
message shape it parses, the key types its queries use and the permissions it calls beyond
its links. `loaddemo NAME` loads one; tests/provisioning/test_sample_shapes.py deploys each.
"""

from __future__ import annotations

from provisioning.model.blueprint import Agent, Blueprint, Component, Link


def weather(project: str = "weather", stage: str = "dev") -> Blueprint:
    """The documentation's weather forecaster: `http_request` to a public weather API, asked
    with GET /weather?city=... from a browser app on its own origin."""
    return Blueprint(
        project=project,
        stage=stage,
        agents=(Agent(name="weather", tools=("http_request",), timeout_s=29),),
        components=(
            Component("http_api", "public", {"cors_origins": ["https://app.example.com"]}),
        ),
        links=(
            Link(
                "http_api:public",
                "agent:weather",
                settings={"method": "GET", "path": "/weather", "env_name": "PUBLIC_URL"},
            ),
        ),
    )


def restaurant(project: str = "restaurant", stage: str = "dev") -> Blueprint:
    """The restaurant booking sample: bookings in a table and menus in a bucket, read through
    names its code chooses, a knowledge base id from an SSM parameter (a permission beyond
    the project, confirmed), and resumed sessions on the SDK's default model."""
    return Blueprint(
        project=project,
        stage=stage,
        agents=(
            Agent(
                name="restaurant",
                tools=("retrieve", "current_time"),
                tool_settings={"knowledge_base_id": "KB12345678"},
                extra_models=("us.anthropic.claude-sonnet-4-20250514-v1:0",),
                extra_statements=(
                    {
                        "actions": ["ssm:GetParameter"],
                        "resources": [
                            "arn:aws:ssm:us-east-1:123456789012:parameter/restaurant-assistant/*"
                        ],
                    },
                ),
                allow_broad_permissions=True,
            ),
        ),
        components=(
            Component(
                "table", "bookings", {"partition_key": "booking_id", "sort_key": "restaurant_name"}
            ),
            Component("bucket", "menus", {}),
        ),
        links=(
            Link("agent:restaurant", "table:bookings", "read_write", {"env_name": "TABLE_NAME"}),
            Link("agent:restaurant", "bucket:menus", "read", {"env_name": "MENU_BUCKET"}),
        ),
    )


def whatsapp(project: str = "whatsapp", stage: str = "dev") -> Blueprint:
    """The WhatsApp assistant sample: messages arrive on an SNS topic (the code parses the SNS
    envelope), users are keyed by phone number and messages by a numeric timestamp."""
    return Blueprint(
        project=project,
        stage=stage,
        agents=(Agent(name="assistant", memory_mb=1024, timeout_s=120),),
        components=(
            Component("topic", "inbound", {}),
            Component("queue", "replies", {"visibility_timeout_s": 720}),
            Component("table", "users", {"partition_key": "phone"}),
            Component(
                "table",
                "messages",
                {"partition_key": "phone", "sort_key": "ts", "sort_key_type": "N"},
            ),
        ),
        links=(
            Link("topic:inbound", "agent:assistant", settings={"env_name": "INBOUND_TOPIC"}),
            Link("topic:inbound", "queue:replies", settings={"raw_message_delivery": False}),
            Link("agent:assistant", "table:users", "read_write", {"env_name": "USERS_TABLE"}),
            Link("agent:assistant", "table:messages", "read_write", {"env_name": "MESSAGES_TABLE"}),
        ),
    )


def handoff(project: str = "handoff", stage: str = "dev") -> Blueprint:
    """Two SQS-driven agents that hand work to each other: a planner fed by a queue sends its
    plans to a second queue that feeds a writer; each reads the URLs under its own names."""
    return Blueprint(
        project=project,
        stage=stage,
        agents=(Agent(name="planner", timeout_s=60), Agent(name="writer", timeout_s=60)),
        components=(
            Component("queue", "tasks", {"visibility_timeout_s": 360}),
            Component("queue", "drafts", {"visibility_timeout_s": 360}),
        ),
        links=(
            Link("queue:tasks", "agent:planner", settings={"env_name": "TASKS_QUEUE_URL"}),
            Link("agent:planner", "queue:drafts", settings={"env_name": "DRAFTS_QUEUE_URL"}),
            Link("queue:drafts", "agent:writer", settings={"env_name": "INPUT_QUEUE_URL"}),
        ),
    )
