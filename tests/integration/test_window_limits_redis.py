"""The window limiter on Redis: one script call per hit, counting in the `limits` library's own
keys (a count made either way carries over), refusing past the limit, open when Redis is away."""

from __future__ import annotations

import uuid

from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from chatsvg.adapters.window_limits import LimitsWindowLimiter
from tests.support.real_stack import REDIS_DB_URL


async def test_hits_count_in_the_library_keys_and_refuse_past_the_limit() -> None:
    limiter = LimitsWindowLimiter.on_redis(REDIS_DB_URL)
    key = f"key-{uuid.uuid4().hex}"
    decisions = [await limiter.hit("api", key, limit=3, window_seconds=60) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[-1].retry_after > 0
    # The library's own reading of the same window (its keys, its prefix) sees the three hits.
    library = MovingWindowRateLimiter(
        RedisStorage("async+" + REDIS_DB_URL, implementation="redispy", key_prefix="chatsvg-wl")
    )
    stats = await library.get_window_stats(RateLimitItemPerSecond(3, 60), "api", key)
    assert stats.remaining == 0


async def test_an_unreachable_store_lets_the_hit_through() -> None:
    limiter = LimitsWindowLimiter.on_redis("redis://127.0.0.1:1/0")
    decision = await limiter.hit("api", "k", limit=3, window_seconds=60)
    assert decision.allowed is True and decision.remaining == 3
