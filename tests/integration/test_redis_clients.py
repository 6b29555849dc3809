"""Bursts against the real Redis: pushes and counters must reuse a bounded set of connections.

redis-py's asyncio pool fails the 101st concurrent command; python-socketio's stock Redis manager
then reconnects from scratch, so a burst of pushes opened a connection per push and dropped some
of them. The pipelined manager sends a burst as a few pipelines over one connection.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import redis.asyncio as aioredis

from chatsvg.adapters.rate_limits import LimitsRateLimiter, RatePolicy
from chatsvg.adapters.realtime.sockets import PipelinedRedisManager, SocketIoRealtime
from tests.support.real_stack import REDIS_DB_URL
from tests.support.tcp_proxy import TcpProxy

CHANNEL = "chatsvg-test-burst"


async def test_a_burst_of_pushes_arrives_whole_in_order_over_one_connection() -> None:
    listener = aioredis.Redis.from_url(REDIS_DB_URL)
    pubsub = listener.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(CHANNEL)
    manager = PipelinedRedisManager(REDIS_DB_URL, channel=CHANNEL, write_only=True)
    realtime = SocketIoRealtime(manager=manager)
    received: list[int] = []

    async def collect(expected: int) -> None:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                received.append(json.loads(message["data"])["data"][0]["n"])
                if len(received) == expected:
                    return

    try:
        collecting = asyncio.create_task(collect(1200))
        await asyncio.sleep(0.05)
        # Two bursts: the second gathers while the first is being sent.
        first = asyncio.gather(*(realtime.job_updated(f"user-{i}", {"n": i}) for i in range(600)))
        await asyncio.sleep(0)
        second = asyncio.gather(
            *(realtime.job_updated(f"user-{i}", {"n": i}) for i in range(600, 1200))
        )
        await asyncio.gather(first, second)
        await asyncio.wait_for(collecting, 10)

        assert received == list(range(1200))
        pool = manager.redis.connection_pool
        assert len(pool._available_connections) + len(pool._in_use_connections) == 1
    finally:
        await pubsub.aclose()
        await listener.aclose()
        await manager.redis.aclose()


async def test_pushes_without_redis_are_held_back_not_raised_or_hung() -> None:
    manager = PipelinedRedisManager("redis://127.0.0.1:1/0", channel=CHANNEL, write_only=True)
    realtime = SocketIoRealtime(manager=manager)
    try:
        await asyncio.wait_for(
            asyncio.gather(*(realtime.job_updated("user-1", {"n": i}) for i in range(50))), 5
        )
        await asyncio.wait_for(manager.flush(), 5)
        assert manager.connected is False  # the next push connects afresh
        assert len(manager._kept) == 50  # to be sent once Redis answers
    finally:
        if manager._resender is not None:
            manager._resender.cancel()
        await manager.redis.aclose()


async def test_pushes_made_while_redis_is_away_arrive_once_it_is_back() -> None:
    """Sockets that stay connected to an API process through a Redis outage must still hear of
    the jobs that moved meanwhile: the publisher sends what it held back when Redis returns,
    without waiting for another push, first in line and in order."""
    listener = aioredis.Redis.from_url(REDIS_DB_URL)
    pubsub = listener.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(CHANNEL)
    db = REDIS_DB_URL.rsplit("/", 1)[1]
    with TcpProxy("127.0.0.1", 6379) as proxy:
        manager = PipelinedRedisManager(
            f"redis://{proxy.url_host}/{db}", channel=CHANNEL, write_only=True
        )
        manager.resend_pauses = (0.2, 0.2, 0.2, 0.2, 0.2, 0.5, 1.0, 2.0)
        realtime = SocketIoRealtime(manager=manager)
        received: list[int] = []

        async def collect(expected: int) -> None:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    received.append(json.loads(message["data"])["data"][0]["n"])
                    if len(received) == expected:
                        return

        try:
            await realtime.job_updated("user-1", {"n": 0})
            await manager.flush()
            proxy.cut()
            for i in range(1, 4):
                await realtime.job_updated("user-1", {"n": i})
            await manager.flush()
            assert len(manager._kept) == 3
            proxy.restore()
            await asyncio.wait_for(collect(4), 10)  # nothing else is pushed meanwhile
            assert received == [0, 1, 2, 3]
            assert not manager._kept
        finally:
            if manager._resender is not None:
                manager._resender.cancel()
            await manager.redis.aclose()
            await pubsub.aclose()
            await listener.aclose()


async def test_a_process_that_lost_its_subscription_is_told_when_it_listens_again() -> None:
    """An API process misses what was published while its subscription was down; the manager
    says when it is subscribed again, and the socket server then catches its sockets up."""
    db = REDIS_DB_URL.rsplit("/", 1)[1]
    with TcpProxy("127.0.0.1", 6379) as proxy:
        manager = PipelinedRedisManager(f"redis://{proxy.url_host}/{db}", channel=CHANNEL)
        resubscribed = asyncio.Event()

        async def caught_up() -> None:
            resubscribed.set()

        manager.on_resubscribed = caught_up
        listening = asyncio.create_task(_drain(manager._listen()))
        try:
            await asyncio.sleep(0.5)
            assert not resubscribed.is_set()  # the first subscription is not a comeback
            await asyncio.to_thread(proxy.outage, 1.0)
            await asyncio.wait_for(resubscribed.wait(), 10)
        finally:
            listening.cancel()
            await manager.redis.aclose()


async def _drain(messages: Any) -> None:
    async for _ in messages:
        pass


async def test_a_flush_waits_for_the_pushes_made_so_far_not_for_later_ones() -> None:
    """A submit flushes before it enqueues; pushes that keep coming from other requests must not
    hold it until the sender runs dry."""
    manager = PipelinedRedisManager(REDIS_DB_URL, channel=CHANNEL, write_only=True)
    realtime = SocketIoRealtime(manager=manager)
    stop = asyncio.Event()

    async def steady_stream() -> None:
        n = 0
        while not stop.is_set():
            await realtime.job_updated("user-1", {"n": n})
            n += 1
            await asyncio.sleep(0)

    stream = asyncio.create_task(steady_stream())
    try:
        await asyncio.sleep(0.2)  # the sender is busy and stays busy
        for _ in range(5):
            await realtime.job_updated("user-2", {"mine": True})
            await asyncio.wait_for(manager.flush(), 1.0)
    finally:
        stop.set()
        await stream
        await asyncio.wait_for(manager.flush(), 5)
        await manager.redis.aclose()


async def test_a_push_does_not_wait_for_redis_until_the_backlog_is_full() -> None:
    """A job attempt goes on to the model while its push is sent; a Redis that does not answer
    holds emits back only once `max_backlog` events wait, so memory stays bounded."""
    connections: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)  # accepts, reads nothing, answers nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    manager = PipelinedRedisManager(f"redis://127.0.0.1:{port}/0", channel=CHANNEL, write_only=True)
    manager.max_backlog = 20
    realtime = SocketIoRealtime(manager=manager)
    try:
        # The first push goes out (and hangs); the next twenty wait in line without waiting.
        await asyncio.wait_for(realtime.job_updated("user-1", {"n": 0}), 1)
        await asyncio.sleep(0.1)
        await asyncio.wait_for(
            asyncio.gather(*(realtime.job_updated("user-1", {"n": i}) for i in range(1, 21))), 1
        )
        blocked = asyncio.create_task(realtime.job_updated("user-1", {"n": 21}))
        await asyncio.sleep(0.3)
        assert not blocked.done()  # the twenty-first waiting event: back-pressure
        blocked.cancel()
    finally:
        if manager._sender is not None:
            manager._sender.cancel()
        for writer in connections:
            writer.close()
        server.close()
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


async def test_clear_empties_the_window_the_checks_count_in() -> None:
    limiter = LimitsRateLimiter.on_redis(REDIS_DB_URL, {"login": RatePolicy(5, 900)})
    key = f"user-{uuid.uuid4().hex}"
    for _ in range(3):
        await limiter.hit("login", key)
    assert (await limiter.peek("login", key)).remaining == 2
    await limiter.clear("login", key)
    assert (await limiter.peek("login", key)).remaining == 5
