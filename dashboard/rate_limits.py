"""Fixed-window rate limits kept in the shared cache (Redis with services): one counter per
key and minute, so every web process counts the same requests."""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone

WINDOW_S = 60


def wait_after_counting(key: str, limit: int) -> int:
    """Count one request under `key` in the current window; 0 while within `limit`, else the
    seconds until the next window opens (for a Retry-After header)."""
    now = timezone.now().timestamp()
    window = int(now // WINDOW_S)
    counter = f"rate:{key}:{window}"
    cache.add(counter, 0, WINDOW_S + 5)
    try:
        count = cache.incr(counter)
    except ValueError:  # evicted between add and incr
        cache.set(counter, 1, WINDOW_S + 5)
        count = 1
    if count <= limit:
        return 0
    return max(1, int((window + 1) * WINDOW_S - now + 0.999))
