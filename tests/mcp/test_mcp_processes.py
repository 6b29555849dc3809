"""MCP on the real stack too, and across API processes: the server is stateless, so a token
granted through one process works on any other, and the per-plan rate of generate_svg is one
count for the user wherever the calls land (Redis)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.mcp.conftest import Browser, MemoryTokenStorage, mcp_http, oauth_provider
from tests.mcp.test_mcp_client import connect, wait_for_job
from tests.support.live import ApiClient, LiveServer

FREE_PER_MINUTE = 5  # the FREE plan's API/MCP generations per minute


async def grant(server: LiveServer) -> tuple[ApiClient, str]:
    user = ApiClient(server.url)
    await user.register(f"eve-{uuid.uuid4().hex[:8]}@example.com")
    storage = MemoryTokenStorage()
    async with (
        mcp_http(server, oauth_provider(server, Browser(user), storage)) as http,
        connect(server, http) as client,
    ):
        assert not (await client.call_tool("list_styles", {})).is_error
    assert storage.tokens is not None
    return user, storage.tokens.access_token


async def test_generate_svg_counts_against_the_plans_rate(
    server_factory: Callable[..., LiveServer],
) -> None:
    # The plan's figures are settings (CHATSVG_PLAN_FREE_RATE_LIMITS): 3 a minute here.
    server = server_factory(plan_free_rate_limits="3/50/200")
    user, token = await grant(server)
    async with (
        mcp_http(server, headers={"Authorization": f"Bearer {token}"}) as http,
        connect(server, http) as client,
    ):
        jobs = []
        for n in range(3):
            started = await client.call_tool("generate_svg", {"prompt": f"a kite {n}"})
            assert not started.is_error, started.content
            jobs.append((started.structured_content or {})["jobId"])
        refused = await client.call_tool("generate_svg", {"prompt": "one too many"})
        assert refused.is_error and "RATE_LIMITED" in refused.content[0].text  # type: ignore[union-attr]
        # Reads have their own limit: polling still works.
        done = await wait_for_job(client, jobs[0], timeout=60)
        assert done["status"] == "SUCCEEDED", done
    await user.aclose()


@pytest.mark.parametrize("stack_kind", [pytest.param("real", marks=pytest.mark.real)])
async def test_any_api_process_serves_any_call(
    server_factory: Callable[..., LiveServer],
) -> None:
    first = server_factory()
    second = server_factory(worker=False, public_url=first.url)
    user, token = await grant(first)
    headers = {"Authorization": f"Bearer {token}"}
    async with mcp_http(second, headers=headers) as http, connect(second, http) as client:
        started = await client.call_tool("generate_svg", {"prompt": "a paper boat"})
        assert not started.is_error, started.content
        job_id = (started.structured_content or {})["jobId"]
    async with mcp_http(first, headers=headers) as http, connect(first, http) as client:
        done = await wait_for_job(client, job_id, timeout=60)
        assert done["status"] == "SUCCEEDED", done
        # One rate for the user, whichever process counts: 1 made on the second, 4 more here.
        for n in range(FREE_PER_MINUTE - 1):
            assert not (await client.call_tool("generate_svg", {"prompt": f"boat {n}"})).is_error
    async with mcp_http(second, headers=headers) as http, connect(second, http) as client:
        refused = await client.call_tool("generate_svg", {"prompt": "one too many"})
        assert refused.is_error and "RATE_LIMITED" in refused.content[0].text  # type: ignore[union-attr]
    # The user revokes on one process; the other refuses the token at once.
    (granted,) = (await user.get("/api/oauth/grants")).json()["grants"]
    assert (await user.delete(f"/api/oauth/grants/{granted['id']}")).status_code == 204
    async with mcp_http(second, headers=headers) as http:
        answer = await http.post(
            f"{second.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}
        )
    assert answer.status_code == 401
    await user.aclose()
