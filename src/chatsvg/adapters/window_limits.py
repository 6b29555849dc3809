"""Moving-window counters whose limit comes with each hit (a plan's rate, an API key's own), on the
`limits` library: in memory locally, in Redis when several processes must share one count."""

from __future__ import annotations

import logging
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage

from chatsvg.adapters.rate_limits import (
    LibraryMovingWindow,
    MovingWindow,
    RedisMovingWindow,
    decision,
)
from chatsvg.application.ports import RateDecision

log = logging.getLogger(__name__)


class LimitsWindowLimiter:
    def __init__(self, window: MovingWindow) -> None:
        self._window = window

    @classmethod
    def in_memory(cls) -> LimitsWindowLimiter:
        return cls(LibraryMovingWindow(MemoryStorage()))

    @classmethod
    def on_redis(cls, redis_url: str) -> LimitsWindowLimiter:
        # The hit and the window's stats in one round trip, on the library's keys.
        return cls(RedisMovingWindow(redis_url, "chatsvg-wl"))

    async def hit(self, bucket: str, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        """Count one use; when the counter store is unreachable the call is let through (the
        public API's rates protect capacity, not secrets)."""
        item = RateLimitItemPerSecond(limit, window_seconds)
        try:
            allowed, reset_time, remaining = await self._window.decide(item, bucket, key, 1, True)
        except Exception:
            log.warning("rate limit store unreachable", exc_info=True, extra={"purpose": bucket})
            return RateDecision(True, limit, limit, int(time.time()) + window_seconds)
        return decision(allowed, limit, reset_time, remaining)
