"""The MCP endpoint is mounted as a bare ASGI app, outside Litestar's request body limit: a body
larger than the API's limit (64 KiB) is refused with 413 before the SDK reads it into memory,
whether it says its length or streams it chunked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from tests.mcp.conftest import server, user
from tests.mcp.test_oauth_http import issued_tokens
from tests.support.live import ApiClient, LiveServer

__all__ = ["server", "user"]  # fixtures

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _huge() -> bytes:
    padding = "x" * (2 * 1024 * 1024)
    return (
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_styles",'
        f'"arguments":{{}},"_meta":{{"pad":"{padding}"}}}}}}'
    ).encode()


async def test_an_oversized_mcp_request_is_413(server: LiveServer, user: ApiClient) -> None:
    _client_id, issued = await issued_tokens(server, user)
    headers = {**HEADERS, "Authorization": f"Bearer {issued['access_token']}"}
    body = _huge()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        sized = await http.post("/mcp", content=body, headers=headers)
        assert sized.status_code == 413
        streamed = await http.post("/mcp", content=chunks(), headers=headers)
        assert streamed.status_code == 413
        # Without a token the answer stays 401 (nothing is read before authentication).
        anonymous = await http.post("/mcp", content=body, headers=HEADERS)
        assert anonymous.status_code == 401
