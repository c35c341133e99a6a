"""Following an agent's log as it grows: what the websocket and `logs --follow` poll.

Each poll reads from the newest timestamp already shown (inclusive: CloudWatch has ms
resolution, and two lines can share one), and drops lines already shown by event id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dashboard.observe.reading import read_agent_logs
from dashboard.runs.models import DeployedResource
from provisioning.aws import AwsContext

POLL_LIMIT = 500


@dataclass
class Follower:
    aws: AwsContext
    function: DeployedResource
    after_ms: int
    filter_text: str = ""
    level: str = ""
    seen: set[str] = field(default_factory=set)
    """Event ids already shown at `after_ms`."""
    error: str = ""

    def poll(self) -> list[dict[str, Any]]:
        """Lines written since the last poll, oldest first (none when the read failed:
        `error` says why, and the next poll tries again)."""
        read = read_agent_logs(
            self.aws, self.function, start_ms=self.after_ms, filter_text=self.filter_text,
            level=self.level, limit=POLL_LIMIT,
        )  # fmt: skip
        self.error = read.error
        fresh = [line for line in read.lines if line["event_id"] not in self.seen]
        if fresh:
            newest = max(line["at_ms"] for line in fresh)
            at_newest = {line["event_id"] for line in fresh if line["at_ms"] == newest}
            self.seen = (self.seen | at_newest) if newest == self.after_ms else at_newest
            self.after_ms = newest
        return fresh
