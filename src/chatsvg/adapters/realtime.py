"""Realtime over Socket.IO (python-socketio): authenticated sockets, one room per user and per session.

With REDIS_URL set, the API servers use AsyncRedisManager and workers a write-only one, so an event
emitted by any process reaches the owner's sockets on every API process.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any

import socketio

from chatsvg.adapters.redis_clients import redis_client
from chatsvg.application.ports import AccessClaims

log = logging.getLogger(__name__)

JOB_UPDATE = "generation-job:update"
NOTIFICATION_NEW = "notification:new"
SERVER_READY = "server:ready"
SESSION_REVOKED = "session:revoked"

Authenticator = Callable[[str | None], Awaitable[AccessClaims]]


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def session_room(session_id: str) -> str:
    return f"session:{session_id}"


def _token_from(environ: dict[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return str(auth["token"])
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer "):
        return str(header[7:].strip())
    cookies = SimpleCookie()
    try:
        cookies.load(environ.get("HTTP_COOKIE", ""))
    except Exception:
        return None
    morsel = cookies.get("token")
    return morsel.value if morsel else None


def make_origin_check(
    web_origins: list[str], own_origins: list[str]
) -> Callable[[str, dict[str, Any]], bool]:
    allowed = {o.rstrip("/") for o in [*web_origins, *own_origins]}

    def check(origin: str, environ: dict[str, Any]) -> bool:
        origin = (origin or "").rstrip("/")
        if origin in allowed:
            return True
        # The API's own origin, whatever host name it is reached by.
        scheme = environ.get("wsgi.url_scheme") or environ.get("asgi.scope", {}).get(
            "scheme", "http"
        )
        host = environ.get("HTTP_HOST", "")
        return bool(host) and origin in (f"{scheme}://{host}", f"http://{host}", f"https://{host}")

    return check


REVOCATIONS_CHANNEL = "chatsvg:sessions-revoked"


class SocketIoRealtime:
    """The RealtimePublisher over a python-socketio server (API) or a write-only manager (worker).

    With Redis, a revoked session is also announced on a channel every API process listens to
    (`listen_for_revocations`), because its sockets may live on any replica.
    """

    def __init__(
        self,
        server: socketio.AsyncServer | None = None,
        manager: Any | None = None,
        redis_url: str | None = None,
        emit_concurrency: int = 32,
    ) -> None:
        """`emit_concurrency`: pushes published at once. python-socketio's Redis manager builds
        a plain redis-py pool (at most 100 connections, failing beyond); on a failure it drops
        its client and connects afresh, so a burst of pushes from hundreds of jobs made a new
        connection for almost every push (1.2 ms of CPU each instead of 0.07) and lost some.
        Bounded here, the manager's pool keeps this many connections and reuses them."""
        self._server = server
        self._manager = manager
        self._redis = redis_client(redis_url, max_connections=8) if redis_url else None
        self._emit_concurrency = emit_concurrency
        self._emit_slots: asyncio.Semaphore | None = None
        self._emit_slots_loop: asyncio.AbstractEventLoop | None = None
        self._revocation_hooks: list[Callable[[list[str]], None]] = []
        self._gap_hooks: list[Callable[[], None]] = []

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

    def _slots(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._emit_slots is None or self._emit_slots_loop is not loop:
            self._emit_slots = asyncio.Semaphore(self._emit_concurrency)
            self._emit_slots_loop = loop
        return self._emit_slots

    async def _emit(self, event: str, data: Any, room: str) -> None:
        async with self._slots():
            await self._emit_now(event, data, room)

    async def _emit_now(self, event: str, data: Any, room: str) -> None:
        try:
            if self._server is not None:
                await self._server.emit(event, data, room=room)
            elif self._manager is not None:
                await self._manager.emit(event, data, room=room, namespace="/")
        except Exception:
            # A lost push is recoverable (clients poll the job on reconnect); a failed use case is not.
            log.warning("realtime emit failed", exc_info=True, extra={"event": event})

    async def job_updated(self, user_id: str, payload: dict[str, Any]) -> None:
        await self._emit(JOB_UPDATE, payload, user_room(user_id))

    async def notification_created(self, user_id: str, payload: dict[str, Any]) -> None:
        await self._emit(NOTIFICATION_NEW, payload, user_room(user_id))

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
        if self._server is None:
            return
        for session_id in session_ids:
            try:
                participants = list(
                    self._server.manager.get_participants("/", session_room(session_id))
                )
            except (KeyError, ValueError):
                participants = []
            for entry in participants:
                sid = entry[0] if isinstance(entry, tuple) else entry
                await self._server.disconnect(sid, namespace="/")

    async def listen_for_revocations(self) -> None:
        """Run in every API process with Redis: disconnect local sockets of sessions revoked anywhere."""
        if self._redis is None or self._server is None:
            return
        first = True
        while True:
            try:
                pubsub = self._redis.pubsub()
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


class NullRealtime:
    """For processes with no sockets and no Redis (CLI commands)."""

    async def job_updated(self, user_id: str, payload: dict[str, Any]) -> None:
        return None

    async def notification_created(self, user_id: str, payload: dict[str, Any]) -> None:
        return None

    async def session_revoked(self, session_ids: list[str]) -> None:
        return None


def create_socket_server(
    *,
    authenticate: Authenticator,
    web_origins: list[str],
    own_origins: list[str],
    redis_url: str | None = None,
) -> socketio.AsyncServer:
    manager = (
        socketio.AsyncRedisManager(redis_url, channel="chatsvg-socketio") if redis_url else None
    )
    server = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=make_origin_check(web_origins, own_origins),
        cors_credentials=True,
        ping_interval=20,
        ping_timeout=20,
        max_http_buffer_size=64_000,
    )

    @server.event  # type: ignore[untyped-decorator]
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            claims = await authenticate(_token_from(environ, auth))
        except Exception:
            raise socketio.exceptions.ConnectionRefusedError("unauthorized") from None
        await server.enter_room(sid, user_room(claims.user_id))
        await server.enter_room(sid, session_room(claims.session_id))
        await server.save_session(sid, {"user_id": claims.user_id, "session_id": claims.session_id})
        await server.emit(SERVER_READY, {"ok": True}, to=sid)

    return server
