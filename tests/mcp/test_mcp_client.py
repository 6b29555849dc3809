"""An AI assistant connects with the official `mcp` client: discovery from the 401, dynamic
registration, the authorization code flow with PKCE (consent posted by the signed-in user), the
three tools, an SVG generated end to end; and access ends when the user revokes the grant or
deletes the account."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from chatsvg.domain.generation.jobs import JobSource
from tests.mcp.conftest import Browser, MemoryTokenStorage, mcp_http, oauth_provider
from tests.support.live import ApiClient, LiveServer

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def connect(server: LiveServer, http: Any) -> Client:
    return Client(streamable_http_client(f"{server.url}/mcp", http_client=http))


async def raw_call(server: LiveServer, token: str | None, **headers: str) -> httpx.Response:
    extra = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(
            f"{server.url}/mcp", json=INIT, headers={**MCP_HEADERS, **extra, **headers}
        )


def assert_unauthorized(server: LiveServer, response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{server.url}/.well-known/oauth-protected-resource"' in challenge


async def wait_for_job(client: Client, job_id: str, timeout: float = 40) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await client.call_tool("get_job_status", {"jobId": job_id})
        assert not result.is_error, result.content
        status = dict(result.structured_content or {})
        if status["status"] in ("SUCCEEDED", "FAILED"):
            return status
        await asyncio.sleep(0.1)
    raise AssertionError("the job did not finish")


async def test_an_assistant_connects_through_oauth_and_generates_an_svg(
    server: LiveServer, user: ApiClient
) -> None:
    browser = Browser(user)
    storage = MemoryTokenStorage()
    async with (
        mcp_http(server, oauth_provider(server, browser, storage)) as http,
        connect(server, http) as client,
    ):
        listed = await client.list_tools()
        tools = {tool.name: tool for tool in listed.tools}
        assert set(tools) == {"list_styles", "generate_svg", "get_job_status"}
        for tool in tools.values():
            assert tool.input_schema["type"] == "object"
            assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        assert "prompt" in tools["generate_svg"].input_schema["required"]

        styles = await client.call_tool("list_styles", {})
        assert not styles.is_error
        assert "flat" in (styles.structured_content or {})["styles"]
        assert json.loads(styles.content[0].text) == styles.structured_content  # type: ignore[union-attr]

        started = await client.call_tool("generate_svg", {"prompt": "a red fox", "style": "flat"})
        assert not started.is_error, started.content
        job = dict(started.structured_content or {})
        assert job["status"] == "QUEUED" and job["jobId"]
        done = await wait_for_job(client, job["jobId"])
        assert done["status"] == "SUCCEEDED", done
        assert done["svg"].lstrip().startswith("<svg") and done["errorMessage"] is None
        assert done["url"]
        download = await user.http.get(done["url"])
        assert download.status_code == 200 and b"<svg" in download.content

        # Failures are tool errors, with the rule's code and message and nothing internal.
        unknown = await client.call_tool("get_job_status", {"jobId": "no-such-job"})
        assert unknown.is_error and "NOT_FOUND" in unknown.content[0].text  # type: ignore[union-attr]
        bad_style = await client.call_tool("generate_svg", {"prompt": "x", "style": "baroque"})
        assert bad_style.is_error and "VALIDATION_ERROR" in bad_style.content[0].text  # type: ignore[union-attr]

    # The consent page named the application and where the code would go.
    (page,) = browser.pages
    assert "Test Assistant" in page and "127.0.0.1:33418" in page
    # The job is the user's, recorded as made through MCP.
    record = await user.get(f"/api/svg/generation-jobs/{job['jobId']}")
    assert record.status_code == 200
    assert server.call(_job_source(server, job["jobId"])) == JobSource.MCP
    # The user sees the granted app.
    grants = (await user.get("/api/oauth/grants")).json()["grants"]
    assert [g["clientName"] for g in grants] == ["Test Assistant"]
    assert grants[0]["scopes"] == ["generate:svg", "read:generation"]


async def _job_source(server: LiveServer, job_id: str) -> Any:
    async with server.container.infrastructure.uow()() as uow:
        job = await uow.jobs.get(job_id)
    assert job is not None
    return job.source


async def test_without_a_valid_token_the_answer_is_401_with_resource_metadata(
    server: LiveServer,
) -> None:
    assert_unauthorized(server, await raw_call(server, None))
    invalid = await raw_call(server, "csat_not-a-token")
    assert_unauthorized(server, invalid)
    assert 'error="invalid_token"' in invalid.headers["www-authenticate"]
    # What the challenge points at says where to authorize.
    async with httpx.AsyncClient() as http:
        resource = (await http.get(f"{server.url}/.well-known/oauth-protected-resource")).json()
        assert resource["resource"] == f"{server.url}/mcp"
        (issuer,) = resource["authorization_servers"]
        metadata = (await http.get(f"{issuer}/.well-known/oauth-authorization-server")).json()
    assert metadata["issuer"] == server.url
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["registration_endpoint"] == f"{server.url}/oauth/register"
    # The health check needs no token.
    async with httpx.AsyncClient() as http:
        health = await http.get(f"{server.url}/mcp/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


async def _connected_token(server: LiveServer, user: ApiClient) -> tuple[str, MemoryTokenStorage]:
    storage = MemoryTokenStorage()
    async with (
        mcp_http(server, oauth_provider(server, Browser(user), storage)) as http,
        connect(server, http) as client,
    ):
        assert not (await client.call_tool("list_styles", {})).is_error
    assert storage.tokens is not None
    return storage.tokens.access_token, storage


async def test_access_ends_when_the_user_revokes_the_grant(
    server: LiveServer, user: ApiClient
) -> None:
    token, storage = await _connected_token(server, user)
    assert (await raw_call(server, token)).status_code == 200
    (grant,) = (await user.get("/api/oauth/grants")).json()["grants"]
    revoked = await user.delete(f"/api/oauth/grants/{grant['id']}")
    assert revoked.status_code == 204
    assert_unauthorized(server, await raw_call(server, token))
    assert (await user.get("/api/oauth/grants")).json()["grants"] == []
    # The refresh token is dead too.
    assert storage.tokens is not None and storage.client is not None
    async with httpx.AsyncClient(base_url=server.url) as http:
        refreshed = await http.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": storage.tokens.refresh_token or "",
                "client_id": storage.client.client_id or "",
            },
        )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


async def test_access_ends_when_the_account_is_deleted(server: LiveServer, user: ApiClient) -> None:
    token, _ = await _connected_token(server, user)
    assert (await raw_call(server, token)).status_code == 200
    deleted = await user.delete("/api/user", json={"password": "correct horse"})
    assert deleted.status_code == 204, deleted.text
    assert_unauthorized(server, await raw_call(server, token))


async def test_no_session_id_is_issued_and_none_is_honoured(
    server: LiveServer, user: ApiClient, other_user: ApiClient
) -> None:
    ada, _ = await _connected_token(server, user)
    bob, _ = await _connected_token(server, other_user)
    opened = await raw_call(server, ada)
    assert opened.status_code == 200 and "mcp-session-id" not in opened.headers
    # A session id, whoever's it claims to be, is refused: every call stands on its own token.
    for token in (ada, bob):
        refused = await raw_call(server, token, **{"Mcp-Session-Id": "4f1c0ffee"})
        assert refused.status_code == 404
    # And each call acts as its token's user only: Bob cannot read Ada's job.
    storage = MemoryTokenStorage()
    async with (
        mcp_http(server, oauth_provider(server, Browser(user), storage)) as http,
        connect(server, http) as client,
    ):
        started = await client.call_tool("generate_svg", {"prompt": "a lighthouse"})
        job_id = (started.structured_content or {})["jobId"]
    async with (
        mcp_http(server, headers={"Authorization": f"Bearer {bob}"}) as http,
        connect(server, http) as client,
    ):
        read = await client.call_tool("get_job_status", {"jobId": job_id})
    assert read.is_error and "NOT_FOUND" in read.content[0].text  # type: ignore[union-attr]


async def test_the_plans_generation_rate_is_one_total_for_v1_and_mcp(
    server: LiveServer, user: ApiClient
) -> None:
    """FREE allows 5 programmatic generations a minute: three through /v1 leave two for MCP."""
    created = await user.post("/api/keys", {"name": "both doors"})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    async with httpx.AsyncClient(base_url=server.url) as http:
        for i in range(3):
            answer = await http.post(
                "/v1/svg/generate", json={"prompt": f"door one {i}"}, headers={"X-API-Key": key}
            )
            assert answer.status_code == 202, answer.text
        assert answer.headers["x-ratelimit-remaining"] == "2"
    token, _ = await _connected_token(server, user)
    bearer = {"Authorization": f"Bearer {token}"}
    async with mcp_http(server, headers=bearer) as http, connect(server, http) as client:
        for i in range(2):
            started = await client.call_tool("generate_svg", {"prompt": f"door two {i}"})
            assert not started.is_error, started.content
        refused = await client.call_tool("generate_svg", {"prompt": "one too many"})
    assert refused.is_error and "RATE_LIMITED" in refused.content[0].text  # type: ignore[union-attr]
