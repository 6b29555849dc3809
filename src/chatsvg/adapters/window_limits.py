"""Moving-window counters whose limit comes with each hit (a plan's rate, an API key's own), on the
`limits` library: in memory locally, in Redis when several processes must share one count."""

from __future__ import annotations

import logging
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from chatsvg.adapters.rate_limits import RedisMovingWindow
from chatsvg.adapters.redis_clients import blocking_pool
from chatsvg.application.ports import RateDecision

log = logging.getLogger(__name__)


class LimitsWindowLimiter:
    def __init__(self, storage: Storage, window: RedisMovingWindow | None = None) -> None:
        self._strategy = MovingWindowRateLimiter(storage)
        self._window = window  # on Redis: the hit and the window's stats in one round trip

    @classmethod
    def in_memory(cls) -> LimitsWindowLimiter:
        return cls(MemoryStorage())

    @classmethod
    def on_redis(cls, redis_url: str) -> LimitsWindowLimiter:
        uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
        return cls(
            RedisStorage(
                uri,
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix="chatsvg-wl",
                connection_pool=blocking_pool(redis_url.removeprefix("async+"), timeout=2.0),  # type: ignore[arg-type]
            ),
            RedisMovingWindow(redis_url, "chatsvg-wl"),
        )

    async def hit(self, bucket: str, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        """Count one use; when the counter store is unreachable the call is let through (the
        public API's rates protect capacity, not secrets)."""
        item = RateLimitItemPerSecond(limit, window_seconds)
        try:
            if self._window is not None:
                allowed, reset_time, remaining = await self._window.decide(
                    item, bucket, key, 1, True
                )
            else:
                allowed = await self._strategy.hit(item, bucket, key)
                stats = await self._strategy.get_window_stats(item, bucket, key)
                reset_time, remaining = stats.reset_time, stats.remaining
        except Exception:
            log.warning("rate limit store unreachable", exc_info=True, extra={"purpose": bucket})
            return RateDecision(True, limit, limit, int(time.time()) + window_seconds)
        reset_at = int(reset_time)
        retry_after = max(1, reset_at - int(time.time())) if not allowed else 0
        return RateDecision(allowed, limit, max(0, remaining), reset_at, retry_after)
