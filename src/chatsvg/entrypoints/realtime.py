"""The Socket.IO server of an API process: who may open a socket, which rooms it joins, and the
replay of recent job updates it gets as it connects.

The server is built from the client manager (adapters/realtime/sockets.py), which exists before
the services: the realtime publisher emits through that manager, so the services that publish do
not need the server, and the server is then given their authenticate and replay callables.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any

import socketio

from chatsvg.adapters.realtime.sockets import JOB_UPDATE, SERVER_READY, session_room, user_room
from chatsvg.application.ports import AccessClaims

log = logging.getLogger(__name__)

Authenticator = Callable[[str | None], Awaitable[AccessClaims]]
# The latest update of each of a user's recent jobs, sent to a socket as it connects.
Replay = Callable[[str], Awaitable[list[dict[str, Any]]]]


def token_from(environ: dict[str, Any], auth: Any) -> str | None:
    """The access token a socket presents: Socket.IO's `auth.token`, a bearer header, or the
    `token` cookie."""
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


class _SocketServer(socketio.AsyncServer):  # type: ignore[misc]  # untyped library
    """python-socketio's server, answering a CONNECT as Socket.IO's own server (the Node
    backend's) does, in two ways the web client relies on.

    A repeated CONNECT on one connection is dropped, not refused: the web client calls the
    socket's `connect()` again to wait for it (`waitForSocketConnected`) while the first CONNECT
    is still unanswered, e.g. when Generate is pressed as the page's socket is still connecting.
    python-socketio answers the second with CONNECT_ERROR, upon which socket.io-client destroys
    the socket, now connected, and the job's updates never reach the page (it waits two minutes,
    then polls). The answer to the first one serves both.

    server:ready and the replay of recent job updates go out after the CONNECT answer, not from
    the connect handler (python-socketio sends the handler's emits before the answer):
    socket.io-client hands events that arrive before its CONNECT answer to the listeners it has
    at that moment, before its own `connect` event, so a listener added on `connect` (the web
    client's generateSvg, and its resume of a job after a reload) would never see the replay it
    waits for."""

    replay: Replay | None = None

    async def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> None:
        namespace = namespace or "/"
        if self.manager.sid_from_eio_sid(eio_sid, namespace) is not None:
            log.debug("repeated CONNECT on one connection ignored", extra={"eio_sid": eio_sid})
            return
        await super()._handle_connect(eio_sid, namespace, data)
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is not None and self.manager.is_connected(sid, namespace):  # answered, accepted
            await self._greet(sid, namespace)

    async def _greet(self, sid: str, namespace: str) -> None:
        """server:ready, then the latest update of each of the user's recent jobs. After joining
        the room: an update that arrives meanwhile is newer or the same, and the manager's
        ordering drops whichever of the two comes second."""
        await self.emit(SERVER_READY, {"ok": True}, to=sid, namespace=namespace)
        if self.replay is None:
            return
        try:
            session = await self.get_session(sid, namespace=namespace)
            updates = await self.replay(session["user_id"])
        except Exception:
            log.warning("could not replay recent job updates", exc_info=True)
            return
        for update in updates:
            await self.manager.emit(JOB_UPDATE, update, namespace, room=sid, ignore_queue=True)


def create_socket_server(
    *,
    manager: socketio.AsyncManager,
    authenticate: Authenticator,
    replay: Replay | None,
    web_origins: list[str],
    own_origins: list[str],
) -> socketio.AsyncServer:
    """The server over `manager` (the publisher's client manager): a socket is accepted once
    `authenticate` accepts its token, joins its user's and its session's rooms, and gets
    `replay`'s updates."""
    server = _SocketServer(
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=make_origin_check(web_origins, own_origins),
        cors_credentials=True,
        ping_interval=20,
        ping_timeout=20,
        max_http_buffer_size=64_000,
    )
    server.replay = replay

    @server.event  # type: ignore[untyped-decorator]
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            claims = await authenticate(token_from(environ, auth))
        except Exception:
            raise socketio.exceptions.ConnectionRefusedError("unauthorized") from None
        await server.enter_room(sid, user_room(claims.user_id))
        await server.enter_room(sid, session_room(claims.session_id))
        await server.save_session(sid, {"user_id": claims.user_id, "session_id": claims.session_id})
        # server:ready and the replay follow the CONNECT answer (`_SocketServer._greet`).

    if replay is not None and hasattr(manager, "on_resubscribed"):
        manager.on_resubscribed = functools.partial(_catch_up, server, replay)
    return server


# A catch-up reads the database, which may be away too (outages come together): it is tried again.
CATCH_UP_PAUSES = (1.0, 2.0, 4.0, 8.0, 15.0)


async def _catch_up(server: socketio.AsyncServer, replay: Replay) -> None:
    """After this process lost its Redis subscription: every socket connected here gets its
    user's recent jobs again (what it already has is dropped by `seq`)."""
    pending: dict[str, list[str]] = {}
    for sid, _ in server.manager.get_participants("/", None):
        try:
            session = await server.get_session(sid)
        except KeyError:  # gone meanwhile
            continue
        pending.setdefault(session["user_id"], []).append(sid)
    sockets, sent = sum(map(len, pending.values())), 0
    for pause in (0.0, *CATCH_UP_PAUSES):
        await asyncio.sleep(pause)
        failed: dict[str, list[str]] = {}
        for user_id, sids in pending.items():
            try:
                updates = await replay(user_id)
            except Exception:
                failed[user_id] = sids
                continue
            for sid in sids:
                for update in updates:
                    await server.manager.emit(JOB_UPDATE, update, "/", room=sid, ignore_queue=True)
                    sent += 1
        if not failed:
            log.info(
                "sockets caught up after a Redis outage",
                extra={"sockets": sockets, "updates": sent},
            )
            return
        pending = failed
    log.warning(
        "could not catch sockets up after a Redis outage",
        extra={"sockets": sum(map(len, pending.values()))},
    )
