"""CORS for the public API: `/v1` answers any origin (`Access-Control-Allow-Origin: *`, never with
credentials: a key is sent as a header, no cookie is read), while everything else goes through the
web origins' allow-list (`cors.py`)."""

from __future__ import annotations

from chatsvg.entrypoints.http.cors import ASGIApp, Message, Receive, Scope, Send

PUBLIC_PREFIX = "/v1/"
ALLOW_METHODS = b"GET, POST, OPTIONS"
ALLOW_HEADERS = b"Content-Type, X-API-Key, Idempotency-Key, x-idempotency-key"
EXPOSE_HEADERS = (
    b"Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Location"
)


class PublicApiCors:
    """`/v1/...` to `public` with CORS `*`; any other request to `rest` (the allow-list CORS)."""

    def __init__(self, rest: ASGIApp, public: ASGIApp) -> None:
        self._app = rest  # (named as the other wrappers' inner app, which tests walk)
        self._public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PUBLIC_PREFIX):
            await self._app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        (b"access-control-allow-origin", b"*"),
                        (b"access-control-allow-methods", ALLOW_METHODS),
                        (b"access-control-allow-headers", ALLOW_HEADERS),
                        (b"access-control-max-age", b"600"),
                        (b"content-length", b"0"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", b"*"),
                    (b"access-control-expose-headers", EXPOSE_HEADERS),
                ]
            await send(message)

        await self._public(scope, receive, send_with_cors)
