"""A real ChatSVG server (local mode: SQLite, the in-process queue, the offline model) and what an
MCP client and the user's browser do against it: register, consent, connect."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import httpx2
import pytest
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from tests.e2e.conftest import local_settings
from tests.support.live import ApiClient, LiveServer, free_port, start_server

REDIRECT = "http://127.0.0.1:33418/callback"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    port = free_port()
    settings = local_settings(
        Path(tmp_path_factory.mktemp("mcp")),
        public_url=f"http://127.0.0.1:{port}",
        reaper_interval_seconds=0.5,
    )
    live = start_server(settings, port)
    yield live
    live.stop()


class MemoryTokenStorage:
    """Where the MCP client keeps its registration and tokens (the SDK's TokenStorage)."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def form_fields(page: str) -> dict[str, str]:
    found = re.findall(r'<input type=hidden name="([a-z_]+)" value="([^"]*)"', page)
    return {name: html.unescape(value) for name, value in found}


@dataclass
class Browser:
    """The user's browser: signed in to ChatSVG with its cookies, it opens the consent page the
    MCP client sends it to and clicks a button."""

    api: ApiClient
    decision: str = "approve"
    pages: list[str] = field(default_factory=list)
    result: AuthorizationCodeResult | None = None

    async def open(self, url: str) -> None:
        page = await self.api.http.get(url)
        assert page.status_code == 200, page.text
        self.pages.append(page.text)
        fields = form_fields(page.text)
        fields["decision"] = self.decision
        answer = await self.api.http.post(
            "/oauth/authorize", data=fields, headers={"Origin": str(self.api.http.base_url)}
        )
        assert answer.status_code == 303, answer.text
        query = dict(parse_qsl(urlsplit(answer.headers["location"]).query))
        self.result = AuthorizationCodeResult(
            code=query.get("code", ""), state=query.get("state"), iss=query.get("iss")
        )

    async def callback(self) -> AuthorizationCodeResult:
        assert self.result is not None
        return self.result


def oauth_provider(live: LiveServer, browser: Browser, storage: MemoryTokenStorage) -> Any:
    return OAuthClientProvider(
        server_url=f"{live.url}/mcp",
        client_metadata=OAuthClientMetadata(
            client_name="Test Assistant",
            redirect_uris=[REDIRECT],  # type: ignore[list-item]
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        ),
        storage=storage,
        redirect_handler=browser.open,
        callback_handler=browser.callback,
    )


def mcp_http(live: LiveServer, auth: Any = None, headers: dict[str, str] | None = None) -> Any:
    return httpx2.AsyncClient(auth=auth, headers=headers, timeout=30)


@pytest.fixture
async def user(server: LiveServer) -> AsyncIterator[ApiClient]:
    import uuid

    api = ApiClient(server.url)
    await api.register(f"ada-{uuid.uuid4().hex[:8]}@example.com")
    yield api
    await api.aclose()


@pytest.fixture
async def other_user(server: LiveServer) -> AsyncIterator[ApiClient]:
    import uuid

    api = ApiClient(server.url)
    await api.register(f"bob-{uuid.uuid4().hex[:8]}@example.com", name="Bob")
    yield api
    await api.aclose()


__all__ = ["REDIRECT", "Browser", "MemoryTokenStorage", "httpx", "mcp_http", "oauth_provider"]


# Servers on the embedded stack or on the real one (Postgres, Redis, S3, a worker process).
from tests.e2e.conftest import server_factory, stack_kind  # noqa: E402, F401
