"""The production job queue: Dramatiq on Redis. Messages carry only the job id.

Delivery is at-least-once: a message is acknowledged after the handler returns, and a worker that
dies leaves its unacknowledged messages to be requeued by Dramatiq's heartbeat maintenance (and its
jobs to be handed back by our reaper). The use case tolerates duplicates, so that is safe.
Retries of *job attempts* (transient provider faults) are decided by the use case, which re-enqueues
with a delay; Dramatiq's own Retries middleware only covers a handler that crashed outright, and
messages that exhaust those land in Dramatiq's dead-letter queue (kept 7 days).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AgeLimit, Retries, ShutdownNotifications, TimeLimit
from dramatiq.middleware.asyncio import AsyncIO

QUEUE_NAME = "chatsvg-generations"
ACTOR_NAME = "process_generation_job"


def make_broker(
    redis_url: str, *, namespace: str = "chatsvg", time_limit_seconds: float = 600
) -> RedisBroker:
    middleware = [
        AgeLimit(),
        TimeLimit(time_limit=int(time_limit_seconds * 1000)),
        ShutdownNotifications(notify_shutdown=True),
        Retries(max_retries=3, min_backoff=1_000, max_backoff=30_000),
        AsyncIO(),
    ]
    return RedisBroker(
        url=redis_url, middleware=middleware, namespace=namespace, heartbeat_timeout=30_000
    )  # type: ignore[no-untyped-call]


def declare_actor(
    broker: RedisBroker, handler: Callable[[str], Awaitable[None]] | None = None
) -> dramatiq.Actor[Any, Any]:
    """The one actor. The API declares it without a handler only to send; the worker with one."""

    async def refuse(job_id: str) -> None:  # pragma: no cover - the API process never consumes
        raise RuntimeError("this process only enqueues")

    actor: dramatiq.Actor[Any, Any] = dramatiq.actor(  # type: ignore[call-overload]
        handler or refuse,
        actor_name=ACTOR_NAME,
        queue_name=QUEUE_NAME,
        broker=broker,
        max_retries=3,
    )
    return actor


class DramatiqJobQueue:
    def __init__(
        self, redis_url: str, *, broker: RedisBroker | None = None, namespace: str = "chatsvg"
    ) -> None:
        self.broker = broker or make_broker(redis_url, namespace=namespace)
        if ACTOR_NAME not in self.broker.actors:
            declare_actor(self.broker)

    async def enqueue(self, job_id: str, *, delay_seconds: float = 0.0) -> None:
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=QUEUE_NAME, actor_name=ACTOR_NAME, args=(job_id,), kwargs={}, options={}
        )
        delay = int(delay_seconds * 1000) or None
        # redis-py here is synchronous; keep it off the event loop.
        await asyncio.to_thread(self.broker.enqueue, message, delay=delay)

    async def ping(self) -> None:
        await asyncio.to_thread(self.broker.client.ping)

    async def depth(self) -> int:
        def count() -> int:
            client = self.broker.client
            ns = self.broker.namespace
            return int(client.llen(f"{ns}:{QUEUE_NAME}") or 0) + int(
                client.zcard(f"{ns}:{QUEUE_NAME}.DQ") or 0
            )

        return await asyncio.to_thread(count)
