"""Fixed-window rate limits kept in the shared cache (Redis in production), so every web
process counts against the same window."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Window:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    """Seconds until the window starts again."""


def hit(key: str, limit: int, window_seconds: int, *, now: float | None = None) -> Window:
    """Count one request against ``key`` and say whether it is within ``limit`` per window."""
    now = time.time() if now is None else now
    slot = int(now // window_seconds)
    reset = max(1, window_seconds - int(now % window_seconds))
    cache_key = f"ratelimit:{key}:{slot}"
    cache.add(cache_key, 0, window_seconds + 1)
    try:
        count = int(cache.incr(cache_key))
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, window_seconds + 1)
        count = 1
    return Window(count <= limit, limit, max(0, limit - count), reset)
