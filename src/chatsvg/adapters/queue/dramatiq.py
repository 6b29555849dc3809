"""The production task queue: Dramatiq on Redis, one actor (on its own queue) per named task.

A message carries a task's payload only (a job id, ...). It is a wake-up call, not the record of
work: the database is. The worker acknowledges a message once it has handed the task to its event
loop (entrypoints/worker.py); a job whose worker dies afterwards is handed back by the lease and the
reaper, and a message lost with Redis is re-sent by the reaper too. Duplicates are harmless:
claiming a job is a compare-and-set. Re-running a task after a delay (a transient provider fault) is
decided by its handler and done by `TaskRegistry.run`; Dramatiq's own Retries middleware only
covers an actor that crashed outright, and messages that exhaust those land in Dramatiq's
dead-letter queue (kept 7 days).

Dramatiq's public API is used for the broker, its middleware, the actors and messages
(`dramatiq.actor`, `Actor.message_with_options`, `Message.copy`, `Broker.emit_before/after`) and for
consuming (`RedisBroker.consume` returns the stock consumer, which `_WakingConsumer` wraps through
the public `dramatiq.broker.Consumer` interface). Two touch points are not Dramatiq's API, and are
why pyproject.toml pins dramatiq exactly (==2.2.1); check them on every upgrade:

- the Redis layout of a queue: the list `<namespace>:<queue>` (and `<queue>.DQ` for delayed
  messages), on which a consumer waits and whose length is the queue depth;
- sending from the event loop (`DramatiqTaskQueue._send`) runs the broker's own Lua dispatch script
  (`RedisBroker.scripts["dispatch"]`, an attribute without documentation) with the arguments
  `RedisBroker.enqueue` passes it, through redis.asyncio instead of the broker's synchronous client.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import dramatiq
import redis
from dramatiq.broker import Consumer, MessageProxy
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis, dq_name
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import AgeLimit, Retries, ShutdownNotifications, TimeLimit

from chatsvg.adapters.redis_clients import redis_client
from chatsvg.application.generation.tasks import GENERATE
from chatsvg.application.ports import TaskPayload
from chatsvg.application.tasks import UnknownTask

log = logging.getLogger(__name__)


class PushCarrier(Protocol):
    """What the queue asks of the realtime manager whose pushes it carries
    (adapters/realtime/sockets.py, PipelinedRedisManager)."""

    channel: str
    enqueue_carries_pushes: bool

    def carry(self) -> Any | None: ...

    def carried(self, batch: Any, *, failed: bool) -> None: ...

    async def flush(self) -> None: ...


@dataclass(frozen=True)
class _Delayed:
    handle: asyncio.TimerHandle
    actor: dramatiq.Actor[Any, Any]
    payload: TaskPayload
    due: float


@dataclass(frozen=True)
class Route:
    """Where a named task travels on Dramatiq."""

    actor_name: str
    queue_name: str


# `generate` keeps the names it had before tasks were named, so that a rolling deploy consumes the
# messages the previous release sent. A new task gets an actor of its name on a queue of its own.
_ROUTES = {GENERATE: Route("process_generation_job", "chatsvg-generations")}


def route(task: str) -> Route:
    return _ROUTES.get(task) or Route(task, "chatsvg-" + task.replace("_", "-"))


TaskSink = Callable[[str, TaskPayload], None]


class _WakingConsumer(Consumer):
    """Dramatiq's Redis consumer, waking on a new message instead of polling for it.

    The stock consumer, finding its queue empty, sleeps 5 ms, then 10, 20, ... up to the worker's
    idle timeout, and a message that arrives meanwhile waits out the sleep: a few milliseconds of
    every job's latency at a steady rate, and most of the timeout after a quiet spell. This one
    wraps a stock consumer whose idle sleep is 1 ms, and when that finds nothing it blocks in Redis
    instead, on `BLMOVE queue queue LEFT LEFT`: a move of a list's first element to where it
    already is, which changes nothing and returns as soon as the list holds one, bounded by the
    idle timeout. Then the stock consumer fetches again, so what is consumed and how (same script,
    acks and bookkeeping) is Dramatiq's own; only the wait differs.

    It waits in Redis only when the stock consumer had room to fetch; with its prefetch taken it
    sleeps with Dramatiq's own backoff, since then it waits for its own worker threads, not Redis.
    """

    def __init__(
        self, inner: Consumer, client: redis.Redis, list_key: str, prefetch: int, timeout: int
    ) -> None:
        self._inner = inner
        self._client = client
        self._list_key = list_key
        self.prefetch = prefetch
        self.idle_timeout_ms = timeout
        self._handed_out: set[str] = set()  # message ids not acknowledged yet
        self._full_misses = 0

    def ack(self, message: MessageProxy) -> None:
        try:
            self._inner.ack(message)
        finally:
            self._handed_out.discard(message.message_id)

    def nack(self, message: MessageProxy) -> None:
        try:
            self._inner.nack(message)
        finally:
            self._handed_out.discard(message.message_id)

    def requeue(self, messages: Iterable[MessageProxy]) -> None:
        self._inner.requeue(messages)

    def close(self) -> None:
        self._inner.close()

    def _take(self) -> MessageProxy | None:
        message = next(self._inner)
        if message is not None:
            self._handed_out.add(message.message_id)
        return message

    def __next__(self) -> MessageProxy | None:
        message = self._take()  # from the stock consumer's cache, or one fetch
        if message is not None:
            self._full_misses = 0
            return message
        if len(self._handed_out) >= self.prefetch:
            # Its cache is empty (else it had returned one): the prefetch is all handed out.
            self._full_misses = min(self._full_misses + 1, 32)
            backoff_ms = min(5 * 2 ** (self._full_misses - 1), self.idle_timeout_ms)
            time.sleep(random.uniform(backoff_ms / 2, backoff_ms) / 1000)  # as Dramatiq's backoff
            return None
        self._full_misses = 0
        try:
            # Seconds, fractions included (Redis >= 6; redis-py's stubs say int, and 0 would block
            # for ever).
            timeout = self.idle_timeout_ms / 1000
            self._client.blmove(self._list_key, self._list_key, timeout, "LEFT", "LEFT")  # type: ignore[arg-type]
        except redis.ConnectionError as exc:
            raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]
        return self._take()


class WakingRedisBroker(RedisBroker):
    """The Redis broker whose consumers wake on a message; sending, acks and maintenance are
    unchanged."""

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Consumer:
        # The stock consumer's idle sleep, computed from its timeout, becomes 1 ms: the wait
        # happens in `_WakingConsumer`.
        inner = super().consume(queue_name, prefetch, 1)
        key = f"{self.namespace}:{queue_name}"
        return _WakingConsumer(inner, self.client, key, prefetch, timeout)


def make_broker(redis_url: str, *, namespace: str = "chatsvg") -> RedisBroker:
    """The broker. The worker hands tasks to its own event loop (entrypoints/worker.py), so its
    actors are synchronous and quick; the API only enqueues."""
    middleware: list[Any] = [
        AgeLimit(),
        TimeLimit(time_limit=60_000),
        ShutdownNotifications(notify_shutdown=True),
        Retries(max_retries=3, min_backoff=1_000, max_backoff=30_000),
    ]
    return WakingRedisBroker(  # type: ignore[no-untyped-call]
        url=redis_url, middleware=middleware, namespace=namespace, heartbeat_timeout=30_000
    )


def declare_actors(
    broker: RedisBroker, tasks: Iterable[str], sink: TaskSink | None = None
) -> list[dramatiq.Actor[Any, Any]]:
    """One actor per task, on the task's queue. With `sink` (the worker) an actor hands its
    payload to `sink(task, payload)`; without (the API) it is declared only to send."""
    actors = []
    for task in tasks:
        where = route(task)
        actor: dramatiq.Actor[Any, Any] = dramatiq.actor(  # type: ignore[call-overload]
            _actor_function(task, sink),
            actor_name=where.actor_name,
            queue_name=where.queue_name,
            broker=broker,
            max_retries=3,
        )
        actors.append(actor)
    return actors


def _actor_function(task: str, sink: TaskSink | None) -> Callable[[TaskPayload], None]:
    def hand_over(payload: TaskPayload) -> None:
        if sink is None:  # pragma: no cover - a process that only sends never consumes
            raise RuntimeError("this process only enqueues")
        sink(task, payload)

    hand_over.__name__ = hand_over.__qualname__ = task
    return hand_over


class DramatiqTaskQueue:
    """Sends the tasks it carries with Dramatiq's own Redis dispatch script, run through
    redis.asyncio.

    Dramatiq's broker talks to Redis with the synchronous client; sending through it from an event
    loop meant a thread hop per submitted prompt (and the loop waiting on that thread for the GIL).
    `enqueue` here does what `RedisBroker.enqueue` does (same message, same Lua script and
    arguments, the broker's enqueue middleware hooks) without leaving the loop; the worker consumes
    with Dramatiq's consumer. Tasks with no actor on `broker` get one that only sends.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        tasks: Iterable[str],
        broker: RedisBroker | None = None,
        namespace: str = "chatsvg",
    ) -> None:
        self.broker = broker or make_broker(redis_url, namespace=namespace)
        self._actors: dict[str, dramatiq.Actor[Any, Any]] = {}
        for task in tasks:
            name = route(task).actor_name
            if name not in self.broker.get_declared_actors():
                declare_actors(self.broker, [task])
            self._actors[task] = self.broker.get_actor(name)
        self._redis = redis_client(redis_url, max_connections=32)
        scripts = self.broker.scripts
        self._dispatch = self._redis.register_script(scripts["dispatch"].script)
        self._maxstack = self._redis.register_script(scripts["maxstack"].script)
        self._unpack_size: int | None = None
        self._redelivering: set[asyncio.Task[None]] = set()
        # Delayed re-runs waiting in this process, by a number of their own.
        self._delayed: dict[int, _Delayed] = {}
        self._delayed_ids = itertools.count()
        self._handed_over = False
        self._pushes: PushCarrier | None = None

    # Pauses between sends of a message that Redis did not take (about 30 s in all), and how many
    # such messages a process keeps trying at once before it lets enqueue fail instead.
    redelivery_pauses: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
    max_redeliveries = 10_000

    @property
    def tasks(self) -> list[str]:
        return list(self._actors)

    def carry_pushes(self, pushes: PushCarrier) -> None:
        """Publish the realtime pushes this process has in line ahead of each message sent, in
        the same pipeline (or wait for them to be sent when they cannot be taken): the realtime
        publisher's flush before an enqueue then has nothing to wait for."""
        self._pushes = pushes
        pushes.enqueue_carries_pushes = True

    async def enqueue(self, task: str, payload: TaskPayload, *, delay_seconds: float = 0.0) -> None:
        """Send the task's message. If Redis is away, the message is sent again in the background
        (as soon as Redis is back, within about 30 s) and this returns: the work is recorded, and
        what is left to do is a wake-up call that must not wait for the sweep of stale work.
        Raises only when even that cannot be arranged (too many messages already pending; the
        sweep then sends it), or for a task this queue does not carry (UnknownTask)."""
        actor = self._actors.get(task)
        if actor is None:
            raise UnknownTask(task)
        due = time.monotonic() + delay_seconds
        if delay_seconds > 0 and not self._handed_over:
            # A delayed re-run waits here, not in Dramatiq's delay queue: a consumer that loses
            # its Redis connection drops the delayed messages it holds in memory, and they stay
            # unacknowledged, out of every worker's reach, until the sweep of stale jobs finds
            # their jobs (minutes). Sent when due, they ride out a Redis outage like any other
            # message; at shutdown the ones still waiting go to Redis with their remaining delay
            # (`hand_over_delayed`), and a crash leaves their jobs to that sweep.
            key = next(self._delayed_ids)
            handle = asyncio.get_running_loop().call_later(delay_seconds, self._send_due, key)
            self._delayed[key] = _Delayed(handle, actor, payload, due)
            return
        await self._send_or_redeliver(actor, payload, due)

    async def _send_or_redeliver(
        self, actor: dramatiq.Actor[Any, Any], payload: TaskPayload, due: float
    ) -> None:
        """Send now; if Redis is away, send again in the background until it is back. Raises
        only when too many messages are already waiting for that."""
        try:
            await self._send(actor, payload, max(0.0, due - time.monotonic()))
        except (redis.RedisError, OSError) as exc:
            if len(self._redelivering) >= self.max_redeliveries:
                raise
            log.warning(
                "enqueue failed; sending again in the background",
                extra={"actor": actor.actor_name, "payload": payload, "error": type(exc).__name__},
            )
            self._in_background(self._redeliver(actor, payload, due))

    def _send_due(self, key: int) -> None:
        due = self._delayed.pop(key, None)
        if due is not None:
            self._in_background(self._send_due_now(due))

    async def _send_due_now(self, due: _Delayed) -> None:
        try:
            await self._send_or_redeliver(due.actor, due.payload, due.due)
        except (redis.RedisError, OSError):
            log.error(
                "a delayed re-run could not be sent; the sweep will send it",
                extra={"actor": due.actor.actor_name, "payload": due.payload},
            )

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        pending = asyncio.get_running_loop().create_task(work)
        self._redelivering.add(pending)
        pending.add_done_callback(self._redelivering.discard)

    async def hand_over_delayed(self) -> int:
        """At shutdown: send the delayed re-runs still waiting here to Redis, each with what is
        left of its delay, and send later ones at once. Returns how many were handed over."""
        self._handed_over = True
        waiting = list(self._delayed.values())
        self._delayed.clear()
        now = time.monotonic()
        for item in waiting:
            item.handle.cancel()
            try:
                await self._send(item.actor, item.payload, max(0.0, item.due - now))
            except (redis.RedisError, OSError):
                log.warning(
                    "a delayed re-run could not be handed over; the sweep will send it",
                    extra={"actor": item.actor.actor_name, "payload": item.payload},
                )
        return len(waiting)

    @property
    def delayed(self) -> int:
        """Delayed re-runs waiting in this process."""
        return len(self._delayed)

    async def _redeliver(
        self, actor: dramatiq.Actor[Any, Any], payload: TaskPayload, due: float
    ) -> None:
        for pause in self.redelivery_pauses:
            await asyncio.sleep(pause)
            try:
                await self._send(actor, payload, max(0.0, due - time.monotonic()))
            except (redis.RedisError, OSError):
                continue
            log.info(
                "enqueued after a retry", extra={"actor": actor.actor_name, "payload": payload}
            )
            return
        log.error(
            "enqueue kept failing; the sweep will send it",
            extra={"actor": actor.actor_name, "payload": payload},
        )

    async def _send(
        self, actor: dramatiq.Actor[Any, Any], payload: TaskPayload, delay_seconds: float
    ) -> None:
        # As RedisBroker.enqueue: a fresh Redis id per send, the delay queue and an eta if delayed.
        message = actor.message_with_options(args=(payload,), redis_message_id=str(uuid.uuid4()))
        delay = int(delay_seconds * 1000) or None
        queue_name = message.queue_name
        if delay is not None:
            queue_name = dq_name(queue_name)
            message = message.copy(queue_name=queue_name, options={"eta": current_millis() + delay})
        unpack_size = self._unpack_size
        if unpack_size is None:
            # As the broker does once per process: half of Redis's Lua stack, asked with its script.
            unpack_size = self._unpack_size = int(await self._maxstack()) // 2
        self.broker.emit_before("enqueue", message, delay)
        args = [
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
        ]
        pushes = self._pushes
        if pushes is None:
            await self._dispatch(keys=[self.broker.namespace], args=args)
        elif (carried := pushes.carry()) is None:
            await pushes.flush()  # what was pushed before goes first, as the port promises
            await self._dispatch(keys=[self.broker.namespace], args=args)
        else:
            await self._publish_then_dispatch(pushes, carried, args)
        self.broker.emit_after("enqueue", message, delay)

    async def _publish_then_dispatch(
        self, pushes: PushCarrier, batch: Any, args: list[Any]
    ) -> None:
        """The pushes in line and the message in one pipeline, in that order: one round trip
        where there were two, and Redis runs the PUBLISHes before the message can be fetched."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for event in batch.messages:
                    pipe.publish(pushes.channel, event)
                pipe.evalsha(self._dispatch.sha, 1, self.broker.namespace, *args)
                outcome = (await pipe.execute(raise_on_error=False))[-1]
        except BaseException:
            pushes.carried(batch, failed=True)
            raise
        pushes.carried(batch, failed=False)
        if isinstance(outcome, redis.exceptions.NoScriptError):
            # Redis lost its scripts (a restart): the script object loads it and runs it.
            await self._dispatch(keys=[self.broker.namespace], args=args)
        elif isinstance(outcome, Exception):
            raise outcome

    async def ping(self) -> None:
        """Readiness: the client that sends is the one checked."""
        await self._redis.ping()

    async def depth(self) -> int:
        """Messages waiting in Redis for the tasks carried here: each queue and its delay queue
        (both lists in Dramatiq). Delayed re-runs held by worker processes are not in it: each
        worker reports its own (`chatsvg_worker_delayed_reruns`), so the figure is the same
        whichever process computes it."""
        ns = self.broker.namespace
        async with self._redis.pipeline(transaction=False) as pipe:
            for actor in self._actors.values():
                pipe.llen(f"{ns}:{actor.queue_name}")
                pipe.llen(f"{ns}:{dq_name(actor.queue_name)}")
            lengths = await pipe.execute()
        return sum(int(n or 0) for n in lengths)

    async def aclose(self) -> None:
        await self._redis.aclose()
