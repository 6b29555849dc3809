"""The Dramatiq queue carries the realtime pushes in line ahead of the message it sends, in one
pipeline (adapters/queue/dramatiq.py `carry_pushes`, adapters/realtime/sockets.py `carry`),
against the real Redis: the PUBLISH runs before the message's script on the same connection,
nothing is lost when that send fails or Redis forgot its scripts, and a push that cannot be
carried is still sent first."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from chatsvg.adapters.queue.dramatiq import DramatiqTaskQueue, route
from chatsvg.adapters.realtime.sockets import PipelinedRedisManager, SocketIoRealtime
from chatsvg.application.generation.tasks import GENERATE
from tests.support.real_stack import REDIS_DB_URL

pytestmark = pytest.mark.real


class Stack:
    def __init__(self, namespace: str, channel: str, queue_url: str = REDIS_DB_URL) -> None:
        self.namespace = namespace
        self.channel = channel
        self.manager = PipelinedRedisManager(REDIS_DB_URL, channel=channel, write_only=True)
        self.realtime = SocketIoRealtime(self.manager)
        self.queue = DramatiqTaskQueue(queue_url, tasks=[GENERATE], namespace=namespace)
        self.queue.carry_pushes(self.manager)
        self.client = aioredis.Redis.from_url(REDIS_DB_URL)

    async def queued(self) -> int:
        return int(await self.client.llen(f"{self.namespace}:{route(GENERATE).queue_name}"))

    async def close(self) -> None:
        keys = await self.client.keys(f"{self.namespace}:*")
        if keys:
            await self.client.delete(*keys)
        await self.client.aclose()
        await self.queue.aclose()
        if self.manager.redis is not None:
            await self.manager.redis.aclose()


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    tag = uuid.uuid4().hex[:8]
    built = Stack(f"chatsvg-test-{tag}", f"chatsvg-test-channel-{tag}")
    try:
        yield built
    finally:
        await built.close()


async def subscribed(client: aioredis.Redis, channel: str) -> Any:
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    await pubsub.get_message(timeout=1)  # the subscription's confirmation
    return pubsub


async def next_events(pubsub: Any, count: int, timeout: float = 5) -> list[Any]:
    got: list[Any] = []
    async with asyncio.timeout(timeout):
        while len(got) < count:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message is not None:
                event = json.loads(message["data"])
                # python-socketio's message: the event's arguments as a list.
                data = event["data"]
                event["data"] = data[0] if isinstance(data, list) else data
                got.append(event)
    return got


async def test_a_push_and_the_next_message_go_in_one_pipeline_push_first(stack: Stack) -> None:
    listener = await subscribed(stack.client, stack.channel)
    monitor_client = aioredis.Redis.from_url(REDIS_DB_URL)
    seen: list[dict[str, Any]] = []

    async def watch() -> None:
        async with monitor_client.monitor() as monitor:
            async for command in monitor.listen():
                seen.append(command)

    # A queue's first send asks Redis for its Lua stack size first (one await, in which the
    # manager sends what is in line by itself); from then on the push rides with the message.
    await stack.queue.enqueue(GENERATE, "job-0")
    watching = asyncio.create_task(watch())
    await asyncio.sleep(0.2)  # MONITOR is on
    try:
        await stack.realtime.job_updated("user-1", {"jobId": "job-1", "seq": 1, "status": "QUEUED"})
        await stack.realtime.flush()  # returns at once: the queue carries the push
        await stack.queue.enqueue(GENERATE, "job-1")
        [event] = await next_events(listener, 1)
        assert event["data"]["jobId"] == "job-1" and event["room"] == "user:user-1"
        assert await stack.queued() == 2
        await asyncio.sleep(0.2)
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await monitor_client.aclose()
        await listener.aclose()
    ours = [
        c
        for c in seen
        if (c["command"].startswith("PUBLISH") and stack.channel in c["command"])
        or (c["command"].startswith("EVALSHA") and "job-1" in c["command"])
    ]
    assert [c["command"].split()[0] for c in ours] == ["PUBLISH", "EVALSHA"]
    # One connection (one pipeline): the queue's, not the manager's own.
    assert len({(c["client_address"], c["client_port"]) for c in ours}) == 1


async def test_a_carried_push_survives_a_failed_send_and_goes_out_again(stack: Stack) -> None:
    # The queue's Redis is unreachable; the manager's is not.
    await stack.queue.aclose()
    stack.queue = DramatiqTaskQueue(
        "redis://127.0.0.1:1/0", tasks=[GENERATE], namespace=stack.namespace
    )
    stack.queue.redelivery_pauses = ()  # the message's redelivery is not this test's
    stack.queue._unpack_size = 1000  # as if asked before: the send itself is what fails
    stack.queue.carry_pushes(stack.manager)
    stack.manager.resend_pauses = (0.1, 0.2, 0.5)
    listener = await subscribed(stack.client, stack.channel)
    try:
        await stack.realtime.job_updated("user-2", {"jobId": "job-2", "seq": 1, "status": "QUEUED"})
        await stack.queue.enqueue(GENERATE, "job-2")  # fails; redelivered in the background
        [event] = await next_events(listener, 1)  # held back by the manager, sent again
        assert event["data"]["jobId"] == "job-2"
    finally:
        await listener.aclose()


async def test_a_message_is_sent_when_redis_forgot_its_scripts(stack: Stack) -> None:
    listener = await subscribed(stack.client, stack.channel)
    try:
        await stack.queue.enqueue(GENERATE, "job-0")  # the scripts are known
        await stack.client.script_flush()
        await stack.realtime.job_updated("user-3", {"jobId": "job-3", "seq": 1, "status": "QUEUED"})
        await stack.queue.enqueue(GENERATE, "job-3")
        [event] = await next_events(listener, 1)
        assert event["data"]["jobId"] == "job-3"
        assert await stack.queued() == 2
        with pytest.raises(TimeoutError):
            await next_events(listener, 1, timeout=0.5)  # published once, not again
    finally:
        await listener.aclose()


async def test_a_push_that_cannot_be_carried_is_still_sent_before_the_message(
    stack: Stack,
) -> None:
    listener = await subscribed(stack.client, stack.channel)
    try:
        await stack.realtime.job_updated("user-4", {"jobId": "job-4", "seq": 1, "status": "QUEUED"})
        stack.manager._kept.append(  # something held back from an earlier failed send
            json.dumps({"method": "emit", "event": "x", "data": {"jobId": "old"}, "room": "r"})
        )
        assert stack.manager.carry() is None
        await stack.queue.enqueue(GENERATE, "job-4")
        # The queue waited for the manager's own send (held-back first), then sent its message.
        events = await next_events(listener, 2)
        assert [e["data"]["jobId"] for e in events] == ["old", "job-4"]
        assert await stack.queued() == 1
    finally:
        await listener.aclose()
