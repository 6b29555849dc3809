"""The MCP server at `/mcp`: the official SDK's Streamable HTTP transport, mounted in the Litestar
app, behind the OAuth 2.1 authorization server's Bearer tokens.

Stateless: the SDK answers every POST on a fresh transport and issues no `Mcp-Session-Id`, so any
API process can serve any request and there is no session for another user to borrow or to leave
behind. Every request is authenticated here (an opaque access token looked up, with its grant, on
each call: a revoked grant or a deleted account stops the next request), and every tool call is
checked against that caller (scope, per-plan rate, ownership of the job). A request that presents
a session id is answered 404 "Session not found", as the protocol says for an unknown session.

A request without a valid token gets 401 with `WWW-Authenticate: Bearer resource_metadata=...`,
which is how an MCP client discovers the authorization server (RFC 9728).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Annotated, Any

from litestar import asgi
from litestar.enums import ScopeType
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from pydantic import BaseModel, Field

from chatsvg import __version__
from chatsvg.application.authorization.server import AuthorizationServer, Caller
from chatsvg.application.mcp.tools import McpTools
from chatsvg.domain.authorization.grants import InvalidToken
from chatsvg.domain.errors import DomainError
from chatsvg.entrypoints.http.oauth_metadata import resource_metadata_url
from chatsvg.entrypoints.http.security import bearer

log = logging.getLogger("chatsvg.mcp")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CALLER = "chatsvg.mcp.caller"
SESSION_HEADER = b"mcp-session-id"
# The API's request body limit (app.MAX_BODY): this mount is outside Litestar's, so it is applied
# here, before the SDK reads a body into memory. JSON-RPC messages of these tools are small.
MAX_BODY_BYTES = 64 * 1024
INSTRUCTIONS = (
    "ChatSVG turns a text prompt into a clean, safe SVG. Call list_styles for the styles, "
    "generate_svg to start a generation (it spends the user's credits and returns a jobId), then "
    "get_job_status with that jobId until the status is SUCCEEDED (svg and url are then set) or "
    "FAILED (errorMessage says why). Generations take a few seconds."
)


class StyleList(BaseModel):
    styles: list[str] = Field(description="The style names generate_svg accepts.")


class SubmittedJob(BaseModel):
    jobId: str = Field(description="Pass it to get_job_status.")
    status: str = Field(description="QUEUED, RUNNING, SUCCEEDED or FAILED.")


class JobStatusAnswer(BaseModel):
    status: str = Field(description="QUEUED, RUNNING, SUCCEEDED or FAILED.")
    errorMessage: str | None = Field(description="Why the job failed, when it did.")
    svg: str | None = Field(description="The SVG document, once SUCCEEDED.")
    url: str | None = Field(description="A signed download URL (valid minutes), once SUCCEEDED.")


def _caller(ctx: Context) -> Caller:
    request = ctx.request_context.request
    caller = getattr(request, "scope", {}).get(CALLER) if request is not None else None
    if not isinstance(caller, Caller):
        raise ToolError("Not authenticated.")
    return caller


@contextlib.contextmanager
def _tool_errors() -> Any:
    """A rule the call broke becomes a tool error (`isError`) with its message; anything else is
    logged, and the client is told only that it failed."""
    try:
        yield
    except ToolError:
        raise
    except DomainError as error:
        raise ToolError(f"{error.code}: {error.message}") from None
    except Exception:
        log.exception("MCP tool failed")
        raise ToolError("INTERNAL_ERROR: the tool failed; try again later.") from None


def build_server(tools: McpTools) -> MCPServer:
    # MCPServer calls logging.basicConfig (a Rich handler at INFO on the root logger) when the
    # root has no handler yet; logging is the app's to configure (entrypoints/logs.py).
    root = logging.getLogger()
    guard = logging.NullHandler() if not root.handlers else None
    if guard is not None:
        root.addHandler(guard)
    try:
        server: MCPServer = MCPServer(
            "chatsvg", title="ChatSVG", version=__version__, instructions=INSTRUCTIONS
        )
    finally:
        if guard is not None:
            root.removeHandler(guard)

    @server.tool(name="list_styles", description="The styles generate_svg accepts.")
    async def list_styles(ctx: Context) -> StyleList:
        with _tool_errors():
            await tools.admit_read(_caller(ctx))
            return StyleList(styles=tools.styles())

    @server.tool(
        name="generate_svg",
        description=(
            "Start generating an SVG from a prompt on the user's account (spends credits). "
            "Returns a jobId; poll get_job_status until SUCCEEDED or FAILED."
        ),
    )
    async def generate_svg(
        ctx: Context,
        prompt: Annotated[str, Field(description="What to draw.", min_length=1, max_length=2000)],
        style: Annotated[str | None, Field(description="One of list_styles.")] = None,
        model: Annotated[str | None, Field(description="The model; the default if absent.")] = None,
        privacy: Annotated[
            bool | None, Field(description="Keep it out of the public gallery (default true).")
        ] = None,
    ) -> SubmittedJob:
        with _tool_errors():
            job = await tools.generate(
                _caller(ctx), prompt=prompt, style=style, model=model, privacy=privacy
            )
            return SubmittedJob(jobId=job.id, status=job.status.value)

    @server.tool(
        name="get_job_status",
        description="A generation job's status; svg and url once it SUCCEEDED.",
    )
    async def get_job_status(
        ctx: Context,
        jobId: Annotated[str, Field(description="From generate_svg.", max_length=64)],
    ) -> JobStatusAnswer:
        with _tool_errors():
            view = await tools.job_status(_caller(ctx), jobId)
            return JobStatusAnswer(
                status=view.status.value,
                errorMessage=view.error_message,
                svg=view.svg,
                url=view.url,
            )

    return server


class McpEndpoint:
    """The ASGI app mounted at /mcp: health, authentication, then the SDK's transport."""

    def __init__(
        self, *, authorization: AuthorizationServer, tools: McpTools, public_url: str
    ) -> None:
        self._authorization = authorization
        self.server = build_server(tools)
        self._resource_metadata = resource_metadata_url(public_url)
        self._manager: StreamableHTTPSessionManager | None = None

    @contextlib.asynccontextmanager
    async def running(self, _app: Any = None) -> AsyncIterator[None]:
        """The SDK's task group, for the app's lifetime (one per process, started by the lifespan)."""
        self._manager = StreamableHTTPSessionManager(
            app=self.server._lowlevel_server,  # MCPServer exposes no other way to its Server
            stateless=True,
            json_response=True,
        )
        async with self._manager.run():
            yield
        self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope.get("path", "").rstrip("/")
        if path.endswith("/health"):
            await _json(send, 200, {"status": "ok"})
            return
        if scope["method"] == "OPTIONS":
            await _json(send, 204, None)
            return
        headers = dict(scope.get("headers") or [])
        token = bearer(headers.get(b"authorization", b"").decode("latin-1"))
        try:
            caller = await self._authorization.authenticate(token)
        except InvalidToken as error:
            await self._unauthorized(send, error.description if token else None)
            return
        if SESSION_HEADER in headers:
            # No session was ever issued here (stateless): whoever's id it is, it is not one.
            await _json(
                send,
                404,
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32001, "message": "Session not found"},
                },
            )
            return
        if self._manager is None:
            await _json(send, 503, {"error": "MCP server not started"})
            return
        if scope["method"] == "POST":
            body = await _read_body(headers, receive, send)
            if body is None:
                return
            receive = _replay(body, receive)
        scope[CALLER] = caller
        await self._manager.handle_request(scope, receive, send)

    async def _unauthorized(self, send: Send, description: str | None) -> None:
        challenge = f'Bearer resource_metadata="{self._resource_metadata}"'
        if description is not None:
            challenge += f', error="invalid_token", error_description="{description}"'
        await _json(
            send,
            401,
            {
                "error": "invalid_token",
                "error_description": description or "Authentication required.",
            },
            extra=[(b"www-authenticate", challenge.encode("latin-1"))],
        )


async def _read_body(headers: dict[bytes, bytes], receive: Receive, send: Send) -> bytes | None:
    """The whole request body, or None once 413 (too large) has been answered or the client left."""
    too_large = {
        "error": "payload_too_large",
        "error_description": f"The request body is larger than {MAX_BODY_BYTES} bytes.",
    }
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        await _json(send, 413, too_large)
        return None
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            await _json(send, 413, too_large)
            return None
        if not message.get("more_body", False):
            return bytes(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the body already read to the SDK, then waits on the client's."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _json(
    send: Send, status: int, body: Any, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = b"" if body is None else json.dumps(body).encode()
    headers = [(b"content-length", str(len(data)).encode()), (b"cache-control", b"no-store")]
    if body is not None:
        headers.append((b"content-type", b"application/json"))
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": data})


def mcp_mount(endpoint: McpEndpoint) -> Any:
    """The Litestar route handler that hands /mcp and everything under it to the endpoint."""

    @asgi("/mcp", is_mount=True, copy_scope=False, name="mcp", include_in_schema=False)
    async def mcp_app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == ScopeType.HTTP:
            await endpoint(scope, receive, send)

    return mcp_app
