"""The production job queue: Dramatiq on Redis. Messages carry only the job id.

The message is a wake-up call, not the record of work: the database is. The worker acknowledges a
message once it has handed the job to its event loop (entrypoints/worker.py); a job whose worker
dies afterwards is handed back by the lease and the reaper, and a message lost with Redis is re-sent
by the reaper too. Duplicates are harmless: claiming a job is a compare-and-set.
Retries of *job attempts* (transient provider faults) are decided by the use case, which re-enqueues
with a delay; Dramatiq's own Retries middleware only covers a handler that crashed outright, and
messages that exhaust those land in Dramatiq's dead-letter queue (kept 7 days).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff, current_millis, dq_name
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import AgeLimit, Retries, ShutdownNotifications, TimeLimit

from chatsvg.adapters.redis_clients import redis_client

log = logging.getLogger(__name__)

QUEUE_NAME = "chatsvg-generations"
ACTOR_NAME = "process_generation_job"


class _WakingConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer, waking on a new message instead of polling for it.

    The stock consumer, finding its queue empty, sleeps 5 ms, then 10, 20, ... up to the worker's
    idle timeout, and a message that arrives meanwhile waits out the sleep: a few milliseconds of
    every job's latency at a steady rate, and most of the timeout after a quiet spell. This one
    blocks in Redis instead, on `BLMOVE queue queue LEFT LEFT`: a move of a list's first element
    to where it already is, which changes nothing and returns as soon as the list holds one,
    bounded by the idle timeout. Then the stock fetch runs as before (same script, acks and
    bookkeeping), so what is consumed and how is Dramatiq's own; only the wait differs.

    It waits in Redis only when the stock consumer would fetch (nothing cached, room to
    prefetch); with its prefetch full it sleeps with Dramatiq's own backoff, since then it waits
    for its own worker threads, not for Redis.
    """

    def __init__(self, broker: RedisBroker, queue_name: str, prefetch: int, timeout: int) -> None:
        # The stock idle sleep, computed from `timeout`, becomes 0 ms: the wait happens here.
        super().__init__(broker, queue_name, prefetch, 1)  # type: ignore[no-untyped-call]
        self.idle_timeout_ms = timeout
        self._list_key = f"{broker.namespace}:{queue_name}"
        self._full_misses = 0

    def __next__(self) -> Any:
        if not self.message_cache:
            if self.outstanding_message_count < self.prefetch:
                self._full_misses = 0
                try:
                    self.broker.client.blmove(
                        self._list_key,
                        self._list_key,
                        self.idle_timeout_ms / 1000,
                        "LEFT",
                        "LEFT",
                    )
                except redis.ConnectionError as exc:
                    raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]
            else:
                self._full_misses, backoff_ms = compute_backoff(
                    self._full_misses, max_backoff=self.idle_timeout_ms
                )
                time.sleep(backoff_ms / 1000)
                return None
        return super().__next__()  # type: ignore[no-untyped-call]


class WakingRedisBroker(RedisBroker):
    """The Redis broker with `_WakingConsumer`; sending, acks and maintenance are unchanged."""

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return _WakingConsumer


def make_broker(redis_url: str, *, namespace: str = "chatsvg") -> RedisBroker:
    """The broker. The worker hands jobs to its own event loop (entrypoints/worker.py), so its
    actor is synchronous and quick; the API only enqueues."""
    middleware: list[Any] = [
        AgeLimit(),
        TimeLimit(time_limit=60_000),
        ShutdownNotifications(notify_shutdown=True),
        Retries(max_retries=3, min_backoff=1_000, max_backoff=30_000),
    ]
    return WakingRedisBroker(  # type: ignore[no-untyped-call]
        url=redis_url, middleware=middleware, namespace=namespace, heartbeat_timeout=30_000
    )


def declare_actor(
    broker: RedisBroker, handler: Callable[[str], Any] | None = None
) -> dramatiq.Actor[Any, Any]:
    """The one actor. The API declares it without a handler only to send; the worker with one."""

    def refuse(job_id: str) -> None:  # pragma: no cover - the API process never consumes
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
    """Sends with Dramatiq's own Redis dispatch script, run through redis.asyncio.

    Dramatiq's broker talks to Redis with the synchronous client; sending through it from an event
    loop meant a thread hop per submitted prompt (and the loop waiting on that thread for the GIL).
    `enqueue` here does exactly what `RedisBroker.enqueue` does (same message encoding, same Lua
    script and arguments, the broker's enqueue middleware hooks) without leaving the loop; the
    worker consumes with Dramatiq unchanged. The end-to-end tests on the real stack send every job
    this way.
    """

    def __init__(
        self, redis_url: str, *, broker: RedisBroker | None = None, namespace: str = "chatsvg"
    ) -> None:
        self.broker = broker or make_broker(redis_url, namespace=namespace)
        if ACTOR_NAME not in self.broker.actors:
            declare_actor(self.broker)
        self._redis = redis_client(redis_url, max_connections=32)
        self._dispatch = self._redis.register_script(self.broker.scripts["dispatch"].script)
        self._unpack_size: int | None = None
        self._redelivering: set[asyncio.Task[None]] = set()

    # Pauses between sends of a message that Redis did not take (about 30 s in all), and how many
    # such messages a process keeps trying at once before it lets enqueue fail instead.
    redelivery_pauses: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
    max_redeliveries = 10_000

    async def enqueue(self, job_id: str, *, delay_seconds: float = 0.0) -> None:
        """Send the job's message. If Redis is away, the message is sent again in the background
        (as soon as Redis is back, within about 30 s) and this returns: the job is recorded, and
        what is left to do is a wake-up call that must not wait for the reaper's sweep of stale
        jobs. Raises only when even that cannot be arranged (too many messages already pending);
        the reaper then sends it."""
        due = time.monotonic() + delay_seconds
        try:
            await self._send(job_id, delay_seconds)
        except (redis.RedisError, OSError) as exc:
            if len(self._redelivering) >= self.max_redeliveries:
                raise
            log.warning(
                "enqueue failed; sending again in the background",
                extra={"job_id": job_id, "error": type(exc).__name__},
            )
            task = asyncio.get_running_loop().create_task(self._redeliver(job_id, due))
            self._redelivering.add(task)
            task.add_done_callback(self._redelivering.discard)

    async def _redeliver(self, job_id: str, due: float) -> None:
        for pause in self.redelivery_pauses:
            await asyncio.sleep(pause)
            try:
                await self._send(job_id, max(0.0, due - time.monotonic()))
            except (redis.RedisError, OSError):
                continue
            log.info("enqueued after a retry", extra={"job_id": job_id})
            return
        log.error("enqueue kept failing; the reaper will send it", extra={"job_id": job_id})

    async def _send(self, job_id: str, delay_seconds: float) -> None:
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=QUEUE_NAME,
            actor_name=ACTOR_NAME,
            args=(job_id,),
            kwargs={},
            options={"redis_message_id": str(uuid.uuid4())},
        )
        delay = int(delay_seconds * 1000) or None
        queue_name = QUEUE_NAME
        if delay is not None:
            queue_name = dq_name(QUEUE_NAME)
            message = message.copy(queue_name=queue_name, options={"eta": current_millis() + delay})
        unpack_size = self._unpack_size
        if unpack_size is None:
            # One call to Redis, once per process (the broker caches it per class).
            unpack_size = self._unpack_size = int(
                await asyncio.to_thread(self.broker._max_unpack_size)
            )
        self.broker.emit_before("enqueue", message, delay)
        await self._dispatch(
            keys=[self.broker.namespace],
            args=[
                "enqueue",
                current_millis(),
                queue_name,
                self.broker.broker_id,
                self.broker.heartbeat_timeout,
                self.broker.dead_message_ttl,
                0,  # maintenance is the consumers' business
                unpack_size,
                message.options["redis_message_id"],
                message.encode(),
            ],
        )
        self.broker.emit_after("enqueue", message, delay)

    async def ping(self) -> None:
        """Readiness: the client that sends is the one checked."""
        await self._redis.ping()

    async def depth(self) -> int:
        """Messages waiting in Redis: the queue and its delay queue (both lists in Dramatiq)."""
        ns = self.broker.namespace
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.llen(f"{ns}:{QUEUE_NAME}")
            pipe.llen(f"{ns}:{dq_name(QUEUE_NAME)}")
            waiting, delayed = await pipe.execute()
        return int(waiting or 0) + int(delayed or 0)
