"""Realtime over Socket.IO (python-socketio): the client managers and the realtime publisher.

One room per user and per session. With REDIS_URL set, the API processes use a Redis manager and
workers a write-only one, so an event emitted by any process reaches the owner's sockets on every
API process. The publisher emits through the manager; the Socket.IO server of an API process is
built over that same manager by the entrypoints (entrypoints/realtime.py), after the services.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import socketio

from chatsvg.adapters.redis_clients import redis_client

log = logging.getLogger(__name__)

JOB_UPDATE = "generation-job:update"
NOTIFICATION_NEW = "notification:new"
JOB_DRAFT = "generation-job:draft"
SERVER_READY = "server:ready"
SESSION_REVOKED = "session:revoked"


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def session_room(session_id: str) -> str:
    return f"session:{session_id}"


class OrderedJobUpdates(socketio.AsyncManager):  # type: ignore[misc]
    """Delivers each job's updates to each socket in order and once: an update whose `seq` (the
    job's revision, application/generation/events.py) is not above the last one this socket got for that
    job is not sent to it.

    The updates of one job come from several processes (the API that took the prompt, the
    workers that ran its attempts, the reaper) over separate Redis connections, so they can
    arrive out of order; the publishers also wait for their pushes before handing a job to the
    queue, which keeps the order in the common case. This is the guarantee behind it: whatever
    the transport does, a client never sees a job go back. It sits where every process delivers
    to its own sockets (python-socketio's `AsyncManager.emit`, which the Redis manager calls for
    every event it receives), so it holds for pushes from anywhere, and for the replay a socket
    gets when it connects.
    """

    per_socket_jobs = 1024  # the most recent jobs remembered per socket

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_seq: dict[str, OrderedDict[str, int]] = {}

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: str | None = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> Any:
        room = to or room
        if event == JOB_UPDATE and isinstance(data, dict) and isinstance(data.get("seq"), int):
            skip = list(skip_sid) if isinstance(skip_sid, list) else [skip_sid]
            skip.extend(self._stale_for(namespace or "/", room, data["jobId"], data["seq"]))
            skip_sid = skip
        return await super().emit(
            event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
        )

    def _stale_for(self, namespace: str, room: str | None, job_id: Any, seq: int) -> list[str]:
        """The sockets of `room` that have seen this job at `seq` or later; records the rest."""
        stale: list[str] = []
        try:
            participants = list(self.get_participants(namespace, room))
        except (KeyError, ValueError):
            return stale
        for sid, _eio_sid in participants:
            seen = self._last_seq.setdefault(sid, OrderedDict())
            last = seen.get(job_id)
            if last is not None and last >= seq:
                stale.append(sid)
                continue
            seen[job_id] = seq
            seen.move_to_end(job_id)
            if len(seen) > self.per_socket_jobs:
                seen.popitem(last=False)
        return stale

    async def disconnect(self, sid: str, namespace: str, **kwargs: Any) -> Any:
        self._last_seq.pop(sid, None)
        return await super().disconnect(sid, namespace, **kwargs)


REVOCATIONS_CHANNEL = "chatsvg:sessions-revoked"
CHANNEL = "chatsvg-socketio"  # python-socketio's events between processes


class _Batch:
    __slots__ = ("messages", "sent")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.messages: list[str] = []
        self.sent: asyncio.Future[None] = loop.create_future()


class PipelinedRedisManager(socketio.AsyncRedisManager, OrderedJobUpdates):  # type: ignore[misc]
    """python-socketio's Redis manager, publishing in pipelines instead of one call per event.

    The stock manager sends each event with its own PUBLISH and waits for the answer: a worker
    with hundreds of jobs finishing at once makes four pushes per job, each one a round trip
    through an event loop that is busy with those jobs, so pushes queued up behind one another
    (and, unbounded, they exhausted redis-py's connection pool; docs/performance.md). Here every
    event is encoded at once, in the order emitted, and one task sends whatever has accumulated
    as one pipeline (one round trip, one connection) while the next events gather behind it. An
    idle process sends at once; a busy one sends batches. Messages are the manager's own, so every
    API process decodes them unchanged.

    An emit returns as soon as its event is in line to be sent: a job attempt does not wait for
    its pushes on the way to the model and the store (three of them sit on every job's path, and
    under load an awaited push waited for the pipeline it had joined; docs/performance.md). Only
    when more than `max_backlog` events wait (Redis slow or away) does an emit wait for the send,
    which bounds the memory they take.

    A send that fails while Redis is away keeps its events (the newest `max_kept`) and sends them
    again, first in line, with the next send or on its own after a pause (`resend_pauses`):
    sockets that stay connected to an API process through the outage would otherwise never hear
    of the jobs that moved meanwhile. Job updates carry `seq`, so one that arrives twice or late
    is dropped by the receiving manager.
    """

    max_batch = 500
    max_backlog = 10_000
    max_kept = 10_000
    resend_pauses: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
    connected: bool  # the stock manager's: False once a send failed, to reconnect

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._batch: _Batch | None = None
        self._sending: _Batch | None = None
        self._sender: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kept: collections.deque[str] = collections.deque(maxlen=self.max_kept)
        self._resender: asyncio.Task[None] | None = None
        self._catch_ups: set[asyncio.Task[None]] = set()

    # Called (in the background) when this process listens to Redis again after losing it: the
    # events published meanwhile never reached it, so its sockets are brought up to date.
    on_resubscribed: Callable[[], Coroutine[Any, Any, None]] | None = None

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        # The stock loop of python-socketio 5.18 (subscribe, listen, on error wait and subscribe
        # again), with the comeback reported and the pause capped at 10 s, not 60.
        pause, lost = 1.0, False
        while True:
            try:
                self._redis_connect()
                await self.pubsub.subscribe(self.channel)
                if lost and self.on_resubscribed is not None:
                    task = asyncio.get_running_loop().create_task(self.on_resubscribed())
                    self._catch_ups.add(task)
                    task.add_done_callback(self._catch_ups.discard)
                pause, lost = 1.0, False
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:
                log.error(
                    "cannot receive from Redis; listening again in %.0f s",
                    pause,
                    extra={"error": type(exc).__name__},
                )
                lost = True
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10.0)

    async def _publish(self, data: Any) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): start afresh
            self._loop, self._batch, self._sending, self._sender = loop, None, None, None
            self._resender = None
        if self._batch is None:
            self._batch = _Batch(loop)
        batch = self._batch
        batch.messages.append(self.json.dumps(data))
        if self._sender is None or self._sender.done():
            self._sender = loop.create_task(self._send_batches())
        if len(batch.messages) > self.max_backlog:
            await asyncio.shield(batch.sent)

    async def flush(self) -> None:
        """Wait until every event emitted so far has been sent (or dropped): batches go out in
        order, so it waits for the batch holding the newest event, not for the sender to run dry
        (under a steady stream of pushes it never does)."""
        newest = self._batch or self._sending
        if newest is not None and self._loop is asyncio.get_running_loop():
            await asyncio.shield(newest.sent)

    # Set when this process's task queue publishes what is in line ahead of each message it
    # sends (`carry`): the realtime publisher's flush then has nothing to wait for.
    enqueue_carries_pushes = False

    def carry(self) -> _Batch | None:
        """The events in line, for a caller that publishes them itself, ahead of its own command
        in its own pipeline (the task queue: a prompt's QUEUED push and its enqueue in one round
        trip). Only when nothing is in flight or held back (else the order would not hold) and
        the events fit in one batch; None otherwise. The caller reports with `carried`."""
        batch = self._batch
        if (
            batch is None
            or self._kept
            or len(batch.messages) > self.max_batch
            or (self._sending is not None and not self._sending.sent.done())
            or self._loop is not asyncio.get_running_loop()
        ):
            return None
        self._batch = None
        self._sending = batch  # the next batch waits for it (`_send_batches`)
        return batch

    def carried(self, batch: _Batch, *, failed: bool) -> None:
        """The outcome of a batch taken with `carry`: a failed one is held back and sent again,
        as a failed send of the manager's own is."""
        if failed:
            self._keep(batch.messages)
        if not batch.sent.done():
            batch.sent.set_result(None)

    async def _send_batches(self) -> None:
        while self._batch is not None:
            carried = self._sending
            if carried is not None and not carried.sent.done():
                await asyncio.shield(carried.sent)  # a batch the queue carries goes first
                continue
            batch, self._batch = self._batch, None
            self._sending = batch
            messages = batch.messages
            if self._kept:  # what an earlier send could not deliver goes first
                messages = [*self._kept, *messages]
                self._kept.clear()
            try:
                for start in range(0, len(messages), self.max_batch):
                    await self._send(messages[start : start + self.max_batch])
            finally:
                if not batch.sent.done():
                    batch.sent.set_result(None)

    async def _send(self, messages: list[str]) -> None:
        for retries_left in (1, 0):  # like the stock manager: reconnect once, then give up
            try:
                if not self.connected:
                    self._redis_connect()
                async with self.redis.pipeline(transaction=False) as pipe:
                    for message in messages:
                        pipe.publish(self.channel, message)
                    await pipe.execute()
                return
            except Exception:
                self.connected = False
                if not retries_left:
                    self._keep(messages)

    def _keep(self, messages: list[str]) -> None:
        """Hold back events Redis did not take (called where the send failed: the warning
        carries its exception) and resend them once it answers."""
        log.warning(
            "realtime pushes held back: Redis unreachable",
            exc_info=True,
            extra={"count": len(messages)},
        )
        dropped = max(0, len(self._kept) + len(messages) - self.max_kept)
        if dropped:
            log.warning("realtime pushes lost: too many held back", extra={"count": dropped})
        self._kept.extend(messages)
        if self._resender is None or self._resender.done():
            self._resender = asyncio.get_running_loop().create_task(self._resend_kept())

    async def _resend_kept(self) -> None:
        """Send the held-back events once Redis answers again, even if nothing new is emitted."""
        for pause in self.resend_pauses:
            await asyncio.sleep(pause)
            if not self._kept:
                return
            if self._sender is None or self._sender.done():
                loop = asyncio.get_running_loop()
                self._batch = self._batch or _Batch(loop)
                self._sender = loop.create_task(self._send_batches())
            await asyncio.shield(self._sender)
        if self._kept:
            log.warning("realtime pushes lost: Redis unreachable", extra={"count": len(self._kept)})
            self._kept.clear()


class SocketIoRealtime:
    """The RealtimePublisher over a python-socketio client manager.

    API processes pass the manager their Socket.IO server is built over (entrypoints/realtime.py);
    it delivers to this process's sockets and, with Redis, publishes to the other processes.
    Workers pass a write-only `PipelinedRedisManager`: no server ever adopts it, so they have no
    sockets of their own. With Redis, a revoked session is also announced on a channel every API
    process listens to (`listen_for_revocations`), because its sockets may live on any replica.
    """

    def __init__(self, manager: socketio.AsyncManager, redis_url: str | None = None) -> None:
        self._manager = manager
        self._redis = redis_client(redis_url, max_connections=8) if redis_url else None
        self._revocation_hooks: list[Callable[[list[str]], None]] = []
        self._gap_hooks: list[Callable[[], None]] = []

    @property
    def manager(self) -> socketio.AsyncManager:
        """The client manager it emits through."""
        return self._manager

    def _server(self) -> socketio.AsyncServer | None:
        """The Socket.IO server built over the manager (python-socketio's server attaches itself
        to its manager), or None in a process without sockets."""
        server: socketio.AsyncServer | None = getattr(self._manager, "server", None)
        return server

    def on_revoked(
        self, hook: Callable[[list[str]], None], *, on_gap: Callable[[], None] | None = None
    ) -> None:
        """Call `hook` with the ids of sessions revoked by this process (at once) or by any other
        (when the announcement arrives): the API's cache of live sessions listens here. `on_gap`
        runs when the listener reconnects to Redis, since announcements may have been missed."""
        self._revocation_hooks.append(hook)
        if on_gap is not None:
            self._gap_hooks.append(on_gap)

    def _revoked_here(self, session_ids: list[str]) -> None:
        for hook in self._revocation_hooks:
            try:
                hook(session_ids)
            except Exception:
                log.exception("session revocation hook failed")

    async def _emit(self, event: str, data: Any, room: str) -> None:
        try:
            await self._manager.emit(event, data, namespace="/", room=room)
        except Exception:
            # A lost push is recoverable (clients poll the job on reconnect); a failed use case is not.
            log.warning("realtime emit failed", exc_info=True, extra={"event": event})

    async def job_updated(self, user_id: str, payload: dict[str, Any]) -> None:
        await self._emit(JOB_UPDATE, payload, user_room(user_id))

    async def notification_created(self, user_id: str, payload: dict[str, Any]) -> None:
        await self._emit(NOTIFICATION_NEW, payload, user_room(user_id))

    async def job_draft(self, user_id: str, payload: dict[str, Any]) -> None:
        await self._emit(JOB_DRAFT, payload, user_room(user_id))

    async def flush(self, timeout: float = 2.0) -> None:
        """Wait (at most `timeout`) until the pushes emitted so far have been sent to Redis; at
        once when this process's queue carries them ahead of its next message (the port's
        promise is their order against that message)."""
        manager = self._manager
        if not isinstance(manager, PipelinedRedisManager):
            return  # one process: delivered in order as emitted
        if manager.enqueue_carries_pushes:
            # This process's queue publishes what is in line ahead of the next message it sends
            # (or waits for it to be sent): the order this flush is for holds without waiting here.
            return
        try:
            await asyncio.wait_for(manager.flush(), timeout)
        except Exception:
            log.warning("realtime pushes not confirmed sent", exc_info=True)

    async def session_revoked(self, session_ids: list[str]) -> None:
        if not session_ids:
            return
        self._revoked_here(session_ids)
        for session_id in session_ids:
            await self._emit(SESSION_REVOKED, {"sessionId": session_id}, session_room(session_id))
        if self._redis is not None:
            try:
                await self._redis.publish(REVOCATIONS_CHANNEL, json.dumps(session_ids))
                return  # every API process, this one included, disconnects on the message
            except Exception:
                log.warning("could not announce revoked sessions", exc_info=True)
        await self.disconnect_local(session_ids)

    async def disconnect_local(self, session_ids: list[str]) -> None:
        server = self._server()
        if server is None:
            return
        for session_id in session_ids:
            try:
                participants = list(self._manager.get_participants("/", session_room(session_id)))
            except (KeyError, ValueError):
                participants = []
            for entry in participants:
                sid = entry[0] if isinstance(entry, tuple) else entry
                await server.disconnect(sid, namespace="/")

    async def listen_for_revocations(self) -> None:
        """Run in every API process with Redis: disconnect local sockets of sessions revoked anywhere."""
        if self._redis is None or self._server() is None:
            return
        first = True
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(REVOCATIONS_CHANNEL)
                if not first:
                    for gap in self._gap_hooks:
                        gap()
                first = False
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        revoked = [str(i) for i in json.loads(message["data"])]
                        self._revoked_here(revoked)
                        await self.disconnect_local(revoked)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("revocation listener lost Redis; retrying", exc_info=True)
                await asyncio.sleep(1.0)
            finally:  # each retry subscribes on a new connection; the broken one is let go
                with contextlib.suppress(Exception):
                    await pubsub.aclose()


class NullRealtime:
    """For processes with no sockets and no Redis (CLI commands)."""

    async def job_updated(self, user_id: str, payload: dict[str, Any]) -> None:
        return None

    async def notification_created(self, user_id: str, payload: dict[str, Any]) -> None:
        return None

    async def job_draft(self, user_id: str, payload: dict[str, Any]) -> None:
        return None

    async def session_revoked(self, session_ids: list[str]) -> None:
        return None

    async def flush(self) -> None:
        return None
