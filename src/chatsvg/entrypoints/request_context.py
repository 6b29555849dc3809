"""ASGI middleware: a request id on every log line and in the answer, and each request's latency."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from chatsvg.entrypoints.logs import bind_log_context, log_access, unbind_log_context
from chatsvg.entrypoints.metric_definitions import HTTP_LATENCY

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContext:
    """ASGI middleware: a request id (taken from X-Request-ID when sane), bound to every log line of
    the request and echoed back; and the request's latency by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        bind_log_context(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or (
                "/socket.io/" if scope["path"].startswith("/socket.io") else "unmatched"
            )
            HTTP_LATENCY.labels(scope["method"], route, str(status)).observe(elapsed)
            if route != "/socket.io/":
                log_access(scope["method"], route, status, round(elapsed * 1000, 2))
            unbind_log_context("request_id")
