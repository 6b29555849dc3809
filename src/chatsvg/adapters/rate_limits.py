"""Rate limits per purpose on the `limits` library: in memory locally, in Redis when several processes
must share one count. Moving windows: no burst of 2N at a window boundary."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
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


# The `limits` library's moving window on Redis (its acquire_moving_window.lua, then its
# moving_window.lua for the window's stats) as one script, so a check is one round trip instead
# of two. Same list per key, same entries, same keys: counts carry over either way.
# ARGV: now, limit, expiry (s), cost, consume (1) or only test (0).
# Answers {allowed (1/0), the window's oldest entry (or now), entries in the window}.
_HIT_AND_STATS = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local expiry = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
local allowed = 0
if ARGV[5] == '1' then
    if amount <= limit then
        local entry = redis.call('lindex', KEYS[1], limit - amount)
        if not (entry and tonumber(entry) >= now - expiry) then
            local entries = {}
            for i = 1, amount do
                entries[i] = now
            end
            for i = 1, #entries, 5000 do
                redis.call('lpush', KEYS[1], unpack(entries, i, math.min(i + 4999, #entries)))
            end
            redis.call('ltrim', KEYS[1], 0, limit - 1)
            redis.call('expire', KEYS[1], expiry)
            allowed = 1
        end
    end
end
local target = now - expiry
local low, high, index = 0, limit - 1, nil
while low <= high do
    local mid = math.floor((low + high) / 2)
    local val = tonumber(redis.call('lindex', KEYS[1], mid))
    if val and val >= target then
        index = mid
        low = mid + 1
    else
        high = mid - 1
    end
end
local count, oldest = 0, tostring(now)
if index then
    count = index + 1
    oldest = redis.call('lindex', KEYS[1], index)
end
if ARGV[5] ~= '1' and count <= limit - amount then
    allowed = 1
end
return {allowed, oldest, count}
"""


class MovingWindow(Protocol):
    """One moving-window check: (allowed, reset time, remaining), as `limits`' hit (or test)
    then get_window_stats."""

    async def decide(
        self, item: RateLimitItem, purpose: str, key: str, cost: int, consume: bool
    ) -> tuple[bool, float, int]: ...

    async def clear(self, item: RateLimitItem, purpose: str, key: str) -> None: ...


class LibraryMovingWindow:
    """The `limits` library's own moving window, on any of its storages (memory locally)."""

    def __init__(self, storage: Storage) -> None:
        self._strategy = MovingWindowRateLimiter(storage)

    async def decide(
        self, item: RateLimitItem, purpose: str, key: str, cost: int, consume: bool
    ) -> tuple[bool, float, int]:
        if consume:
            allowed = await self._strategy.hit(item, purpose, key, cost=cost)
        else:
            allowed = await self._strategy.test(item, purpose, key, cost=cost)
        stats = await self._strategy.get_window_stats(item, purpose, key)
        return allowed, stats.reset_time, stats.remaining

    async def clear(self, item: RateLimitItem, purpose: str, key: str) -> None:
        await self._strategy.clear(item, purpose, key)


def decision(allowed: bool, limit: int, reset_time: float, remaining: int) -> RateDecision:
    """What a check answers, from the window's reading."""
    reset_at = int(reset_time)
    retry_after = max(1, reset_at - int(time.time())) if not allowed else 0
    return RateDecision(allowed, limit, max(0, remaining), reset_at, retry_after)


class RedisMovingWindow:
    """The moving window of `limits` on Redis, hit (or tested) and measured in one script call,
    on the library's own keys (`prefix:` + the item's key)."""

    def __init__(self, redis_url: str, key_prefix: str) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis(
            connection_pool=blocking_pool(redis_url.removeprefix("async+"), timeout=2.0)
        )
        self._script: Any = self._redis.register_script(_HIT_AND_STATS)
        self._prefix = key_prefix

    async def decide(
        self, item: RateLimitItem, purpose: str, key: str, cost: int, consume: bool
    ) -> tuple[bool, float, int]:
        """(allowed, reset time, remaining), as `limits`' hit/test then get_window_stats."""
        expiry = item.get_expiry()
        now = time.time()
        allowed, oldest, count = await self._script(
            keys=[self._key(item, purpose, key)],
            args=[now, item.amount, expiry, cost, 1 if consume else 0],
        )
        return bool(allowed), float(oldest) + expiry, item.amount - int(count)

    def _key(self, item: RateLimitItem, purpose: str, key: str) -> str:
        return f"{self._prefix}:{item.key_for(purpose, key)}"

    async def clear(self, item: RateLimitItem, purpose: str, key: str) -> None:
        await self._redis.delete(self._key(item, purpose, key))


class LimitsRateLimiter:
    def __init__(self, window: MovingWindow, policies: dict[str, RatePolicy]) -> None:
        self._window = window
        self._items = {
            p: RateLimitItemPerSecond(pol.limit, pol.window_seconds)
            for p, pol in policies.items()
            if pol.limit > 0
        }
        self._policies = policies

    @classmethod
    def in_memory(cls, policies: dict[str, RatePolicy]) -> LimitsRateLimiter:
        return cls(LibraryMovingWindow(MemoryStorage()), policies)

    @classmethod
    def on_redis(cls, redis_url: str, policies: dict[str, RatePolicy]) -> LimitsRateLimiter:
        # One round trip per check (the script), on a pool that waits for a free connection
        # under a burst instead of failing the check.
        return cls(RedisMovingWindow(redis_url, "chatsvg-rl"), policies)

    def _unlimited(self) -> RateDecision:
        return RateDecision(True, 0, 0, 0)

    async def _decide(self, purpose: str, key: str, cost: int, consume: bool) -> RateDecision:
        item = self._items.get(purpose)
        if item is None:
            return self._unlimited()
        policy = self._policies[purpose]
        try:
            reading = await self._window.decide(item, purpose, key, cost, consume)
        except Exception:
            log.warning("rate limit store unreachable", exc_info=True, extra={"purpose": purpose})
            now = int(time.time())
            if policy.fail_open:
                return RateDecision(True, policy.limit, policy.limit, now + policy.window_seconds)
            return RateDecision(False, policy.limit, 0, now + 30, retry_after=30)
        allowed, reset_time, remaining = reading
        return decision(allowed, policy.limit, reset_time, remaining)

    async def hit(self, purpose: str, key: str, cost: int = 1) -> RateDecision:
        return await self._decide(purpose, key, cost, consume=True)

    async def peek(self, purpose: str, key: str) -> RateDecision:
        return await self._decide(purpose, key, 1, consume=False)

    async def clear(self, purpose: str, key: str) -> None:
        item = self._items.get(purpose)
        if item is None:
            return
        try:
            await self._window.clear(item, purpose, key)
        except Exception:
            log.warning("rate limit store unreachable", exc_info=True)
