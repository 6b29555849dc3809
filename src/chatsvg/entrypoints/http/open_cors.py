"""CORS `*` for the routes that read no cookie, never with credentials; everything else goes
through the web origins' allow-list (`cors.py`). Two sets of such routes:

- the public API (`/v1/...`): a key is sent as a header;
- the MCP endpoint and the OAuth endpoints an MCP client calls (discovery, registration, token,
  revocation): a Bearer token or the form's own parameters authenticate, so a browser-based MCP
  client (an inspector, a web IDE) may call them from its own origin. The consent page
  (`/oauth/authorize`) and the sign-in are browser navigations with the session cookie: they stay
  out of this list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chatsvg.entrypoints.http.cors import EXPOSE_HEADERS, ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class OpenPolicy:
    matches: Callable[[str], bool]  # the request paths it covers
    allow_methods: bytes
    allow_headers: bytes
    expose_headers: bytes


PUBLIC_API = OpenPolicy(
    matches=lambda path: path.startswith("/v1/"),
    allow_methods=b"GET, POST, OPTIONS",
    allow_headers=b"Content-Type, X-API-Key, Idempotency-Key, x-idempotency-key",
    expose_headers=EXPOSE_HEADERS.encode(),  # what the web origins are shown, too
)

_MCP_EXACT = frozenset({"/mcp", "/oauth/register", "/oauth/token", "/oauth/revoke"})
_MCP_PREFIXES = ("/mcp/", "/.well-known/oauth-")
MCP_CLIENTS = OpenPolicy(
    matches=lambda path: path in _MCP_EXACT or path.startswith(_MCP_PREFIXES),
    allow_methods=b"GET, POST, DELETE, OPTIONS",
    allow_headers=(
        b"Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID"
    ),
    expose_headers=b"WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version, Retry-After",
)


class OpenCors:
    """The policy's paths to `open_app` with CORS `*`; any other request to `rest`."""

    def __init__(self, rest: ASGIApp, open_app: ASGIApp, policy: OpenPolicy) -> None:
        self._app = rest  # (named as the other wrappers' inner app, which tests walk)
        self._open = open_app
        self._policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = self._policy
        if scope["type"] != "http" or not policy.matches(scope["path"]):
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
                        (b"access-control-allow-methods", policy.allow_methods),
                        (b"access-control-allow-headers", policy.allow_headers),
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
                    (b"access-control-expose-headers", policy.expose_headers),
                ]
            await send(message)

        await self._open(scope, receive, send_with_cors)
