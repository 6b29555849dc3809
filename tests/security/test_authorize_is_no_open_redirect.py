"""The authorization endpoint is not an open redirector (RFC 9700, section 4.11.2): registration
is open to anyone, so a "registered" redirect URI proves nothing about who owns it. An authorize
request with an error (no PKCE, a bad response_type) must not send the browser there on its own:
the page says what is wrong and links back to the application for the user to follow."""

from __future__ import annotations

import html
import re

import httpx

from tests.mcp.conftest import server, user
from tests.mcp.test_oauth_http import authorize_query
from tests.support.live import ApiClient, LiveServer

__all__ = ["server", "user"]  # fixtures

ATTACKER = "https://attacker.example/landing"


async def _client(server: LiveServer) -> str:
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.post("/oauth/register", json={"redirect_uris": [ATTACKER]})
    assert answer.status_code == 201
    return str(answer.json()["client_id"])


async def test_an_authorize_error_never_redirects_on_its_own(
    server: LiveServer, user: ApiClient
) -> None:
    client_id = await _client(server)
    no_pkce = authorize_query(client_id, redirect=ATTACKER)
    del no_pkce["code_challenge"]
    bad_type = authorize_query(client_id, redirect=ATTACKER, response_type="token")
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        for browser in (anonymous, user.http):
            for query in (no_pkce, bad_type):
                page = await browser.get("/oauth/authorize", params=query)
                assert page.status_code == 400, page.headers.get("location")
                assert "location" not in page.headers
                # The error still reaches the application if the user follows the link.
                links = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page.text)]
                back = [link for link in links if link.startswith(ATTACKER + "?")]
                assert len(back) == 1 and "error=" in back[0] and "state=st" in back[0]
