"""How many resources the orchestrator works on at once: AIMD, like TCP's congestion window.

AWS control planes throttle per account and per API. botocore retries a throttled
call with backoff, but if the orchestrator keeps 16 calls in flight the account keeps
throttling and every resource gets slower. So the first throttle halves the limit
(multiplicative decrease, at most once per `cooldown_s`, since a burst of throttles
reports one overload), and each `limit` resources finished without a throttle raise
it by one (additive increase), back up to the configured ceiling.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LimitChange:
    old: int
    new: int
    reason: str

    def message(self) -> str:
        verb = "lowered" if self.new < self.old else "raised"
        return f"concurrency {verb} from {self.old} to {self.new}: {self.reason}"


class AdaptiveLimit:
    def __init__(
        self,
        ceiling: int,
        *,
        floor: int = 1,
        cooldown_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ceiling = max(1, ceiling)
        self.floor = max(1, min(floor, self.ceiling))
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._limit = self.ceiling
        self._calm = 0
        self._last_cut = float("-inf")
        self._lock = threading.Lock()
        self.throttles = 0

    @property
    def current(self) -> int:
        with self._lock:
            return self._limit

    def throttled(self, action: str = "") -> LimitChange | None:
        with self._lock:
            self.throttles += 1
            self._calm = 0
            now = self._clock()
            if now - self._last_cut < self.cooldown_s or self._limit <= self.floor:
                return None
            self._last_cut = now
            old, self._limit = self._limit, max(self.floor, self._limit // 2)
            what = f" ({action})" if action else ""
            return LimitChange(old, self._limit, f"AWS is throttling{what}")

    def finished(self) -> LimitChange | None:
        """A resource finished; after `limit` of them without a throttle, one more slot."""
        with self._lock:
            if self._limit >= self.ceiling:
                return None
            self._calm += 1
            if self._calm < self._limit:
                return None
            self._calm = 0
            old, self._limit = self._limit, self._limit + 1
            return LimitChange(old, self._limit, f"no throttling for {old} resources")
