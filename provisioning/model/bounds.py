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
}
