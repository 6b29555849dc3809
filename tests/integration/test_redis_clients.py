"""Bursts against the real Redis: pushes and counters must reuse a bounded set of connections.

redis-py's asyncio pool fails the 101st concurrent command; python-socketio's Redis manager then
reconnects from scratch, so before the bound a burst of pushes opened a connection per push and
dropped some of them.
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
import socketio

from chatsvg.adapters.rate_limits import LimitsRateLimiter, RatePolicy
from chatsvg.adapters.realtime import SocketIoRealtime
from tests.support.real_stack import REDIS_DB_URL

CHANNEL = "chatsvg-test-burst"


async def test_a_burst_of_pushes_arrives_whole_over_a_bounded_set_of_connections() -> None:
    listener = aioredis.Redis.from_url(REDIS_DB_URL)
    pubsub = listener.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(CHANNEL)
    manager = socketio.AsyncRedisManager(REDIS_DB_URL, channel=CHANNEL, write_only=True)
    realtime = SocketIoRealtime(manager=manager, emit_concurrency=16)
    received = 0

    async def count(expected: int) -> None:
        nonlocal received
        async for message in pubsub.listen():
            if message.get("type") == "message":
                received += 1
                if received == expected:
                    return

    try:
        counting = asyncio.create_task(count(600))
        await asyncio.sleep(0.05)
        await asyncio.gather(*(realtime.job_updated(f"user-{i}", {"n": i}) for i in range(600)))
        await asyncio.wait_for(counting, 10)
        assert received == 600
        pool = manager.redis.connection_pool
        assert len(pool._available_connections) + len(pool._in_use_connections) <= 16
    finally:
        await pubsub.aclose()
        await listener.aclose()
        await manager.redis.aclose()


async def test_a_burst_of_rate_limit_checks_is_counted_not_failed() -> None:
    limiter = LimitsRateLimiter.on_redis(
        REDIS_DB_URL, {"burst": RatePolicy(10_000, 60, fail_open=False)}
    )
    await limiter.clear("burst", "one-user")
    decisions = await asyncio.gather(*(limiter.hit("burst", "one-user") for _ in range(300)))
    # Fail-closed policy: a check that could not reach Redis would have been refused.
    assert all(d.allowed for d in decisions)
    assert (await limiter.peek("burst", "one-user")).remaining == 10_000 - 300
