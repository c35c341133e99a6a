"""The numeric limits AWS puts on the settings a user gives, each written once.

The engine's validation, the dashboard's rules and its forms all read them from here, so a
limit that AWS changes is changed in one place. (The schema per node kind grows from this.)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    low: int
    high: int
    default: int

    def problem(self, value: int) -> str | None:
        if not self.low <= value <= self.high:
            return f"must be between {self.low} and {self.high}"
        return None


AGENT = {
    "memory_mb": Bound(128, 10240, 1024),  # Lambda's memory range
    "timeout_s": Bound(1, 900, 120),  # Lambda's 15-minute cap
    # Alarms: a share of failed invocations, a share of the timeout, tokens a day (0: none).
    "alarm_error_rate_pct": Bound(1, 100, 5),
    "alarm_p95_near_timeout_pct": Bound(10, 100, 80),
    # About $3-15 a day on a large Bedrock model: enough for a team's trials, and a loop
    # that calls the model without end is seen within a day.
    "alarm_tokens_per_day": Bound(0, 10_000_000_000, 1_000_000),
}

COMPONENT = {
    "queue": {
        "visibility_timeout_s": Bound(0, 43200, 720),  # SQS: up to 12 hours
        "message_retention_s": Bound(60, 1209600, 345600),  # 1 minute to 14 days
        "receive_wait_time_s": Bound(0, 20, 20),
        "delay_s": Bound(0, 900, 0),
        "max_receive_count": Bound(1, 1000, 5),
        "batch_size": Bound(1, 10000, 10),
    },
    "table": {
        "read_capacity": Bound(1, 40000, 5),
        "write_capacity": Bound(1, 40000, 5),
    },
    "http_api": {
        # API Gateway's default account quota is 10,000 requests/s with a 5,000 burst. Each
        # request to an agent spends model tokens for seconds: 10/s sustained is already
        # hundreds of running agents, while a burst of 20 lets a page fire a few at once.
        "throttle_rate": Bound(1, 10000, 10),
        "throttle_burst": Bound(1, 5000, 20),
    },
}
