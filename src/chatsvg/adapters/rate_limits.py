"""Rate limits per purpose on the `limits` library: in memory locally, in Redis when several processes
must share one count. Moving windows: no burst of 2N at a window boundary."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from chatsvg.adapters.redis_clients import blocking_pool
from chatsvg.application.ports import RateDecision

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RatePolicy:
    limit: int
    window_seconds: int
    # When the counter store is unreachable: True lets requests through (availability first),
    # False refuses them (protection first, e.g. password guessing).
    fail_open: bool = True


class LimitsRateLimiter:
    def __init__(self, storage: Storage, policies: dict[str, RatePolicy]) -> None:
        self._storage = storage
        self._strategy = MovingWindowRateLimiter(storage)
        self._items = {
            p: RateLimitItemPerSecond(pol.limit, pol.window_seconds)
            for p, pol in policies.items()
            if pol.limit > 0
        }
        self._policies = policies

    @classmethod
    def in_memory(cls, policies: dict[str, RatePolicy]) -> LimitsRateLimiter:
        return cls(MemoryStorage(), policies)

    @classmethod
    def on_redis(cls, redis_url: str, policies: dict[str, RatePolicy]) -> LimitsRateLimiter:
        uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
        return cls(
            RedisStorage(
                uri,
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix="chatsvg-rl",
                # Waits for a free connection under a burst instead of failing the check.
                connection_pool=blocking_pool(redis_url.removeprefix("async+"), timeout=2.0),  # type: ignore[arg-type]  # documented option, narrow stub
            ),
            policies,
        )

    def _unlimited(self) -> RateDecision:
        return RateDecision(True, 0, 0, 0)

    async def _decide(self, purpose: str, key: str, cost: int, consume: bool) -> RateDecision:
        item = self._items.get(purpose)
        if item is None:
            return self._unlimited()
        policy = self._policies[purpose]
        try:
            if consume:
                allowed = await self._strategy.hit(item, purpose, key, cost=cost)
            else:
                allowed = await self._strategy.test(item, purpose, key, cost=cost)
            stats = await self._strategy.get_window_stats(item, purpose, key)
        except Exception:
            log.warning("rate limit store unreachable", exc_info=True, extra={"purpose": purpose})
            now = int(time.time())
            if policy.fail_open:
                return RateDecision(True, policy.limit, policy.limit, now + policy.window_seconds)
            return RateDecision(False, policy.limit, 0, now + 30, retry_after=30)
        reset_at = int(stats.reset_time)
        retry_after = max(1, reset_at - int(time.time())) if not allowed else 0
        return RateDecision(allowed, policy.limit, max(0, stats.remaining), reset_at, retry_after)

    async def hit(self, purpose: str, key: str, cost: int = 1) -> RateDecision:
        return await self._decide(purpose, key, cost, consume=True)

    async def peek(self, purpose: str, key: str) -> RateDecision:
        return await self._decide(purpose, key, 1, consume=False)

    async def clear(self, purpose: str, key: str) -> None:
        item = self._items.get(purpose)
        if item is None:
            return
        try:
            await self._strategy.clear(item, purpose, key)
        except Exception:
            log.warning("rate limit store unreachable", exc_info=True)
