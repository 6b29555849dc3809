"""CORS for the MCP endpoint and the OAuth endpoints an MCP client calls (discovery, registration,
token, revocation): any origin, never with credentials. None of them reads a cookie (a Bearer
token or a form's own parameters authenticate), so a browser-based MCP client (an inspector, a
web IDE) may call them from its own origin. The consent page (`/oauth/authorize`) and the sign-in
are browser navigations with the session cookie: they stay out of this list."""

from __future__ import annotations

from chatsvg.entrypoints.http.cors import ASGIApp, Message, Receive, Scope, Send

OPEN_EXACT = frozenset({"/mcp", "/oauth/register", "/oauth/token", "/oauth/revoke"})
OPEN_PREFIXES = ("/mcp/", "/.well-known/oauth-")
ALLOW_METHODS = b"GET, POST, DELETE, OPTIONS"
ALLOW_HEADERS = (
    b"Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID"
)
EXPOSE_HEADERS = b"WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version, Retry-After"


def is_open(path: str) -> bool:
    return path in OPEN_EXACT or path.startswith(OPEN_PREFIXES)


class OAuthCors:
    """Those paths to `open_app` with CORS `*`; any other request to `rest`."""

    def __init__(self, rest: ASGIApp, open_app: ASGIApp) -> None:
        self._app = rest  # (named as the other wrappers' inner app, which tests walk)
        self._open = open_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_open(scope["path"]):
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

        await self._open(scope, receive, send_with_cors)
