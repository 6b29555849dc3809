"""The admin API over real HTTP (local mode: SQLite, mail written to the outbox directory)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatsvg.adapters.mail.mailers import LocalOutboxDirectory
from tests.e2e.conftest import local_settings
from tests.support.live import LiveServer, free_port, start_server

ADMIN = "boss@example.com"
WEB = "http://localhost:5173"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    port = free_port()
    live = start_server(
        local_settings(
            tmp_path,
            public_url=f"http://127.0.0.1:{port}",
            admin_emails=f"{ADMIN}, other-admin@example.com",
            rate_admin_access="3/900",
            web_origins=(WEB,),
            admin_metrics_cache_seconds=0,
        ),
        port,
    )
    yield live
    live.stop()


async def link_mailed_to(server: LiveServer, address: str) -> str:
    outbox = LocalOutboxDirectory(server.settings.data_path / "outbox")
    for _ in range(100):
        for mail in outbox.mails():
            if mail.to == address:
                text = mail.part("plain") or ""
                return next(line for line in text.splitlines() if "/api/admin/auth?token=" in line)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail to {address}")


def cookie_attributes(response: httpx.Response) -> set[str]:
    header = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("admin_session=")
    )
    return {part.strip().lower() for part in header.split(";")[1:]}


async def test_sign_in_metrics_logout(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers={"Origin": WEB}) as http:
        answers = [
            await http.post("/api/admin/request-access", json={"email": address})
            for address in (ADMIN, "nobody@example.com")
        ]
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[0].json() == answers[1].json() and "message" in answers[0].json()
        assert answers[0].headers.get("set-cookie") == answers[1].headers.get("set-cookie") is None
        # A limited route says so, counting this client's requests alike for every address.
        remaining = [int(a.headers["x-ratelimit-remaining"]) for a in answers]
        assert answers[0].headers["x-ratelimit-limit"] == answers[1].headers["x-ratelimit-limit"]
        assert remaining[1] == remaining[0] - 1 and "x-ratelimit-reset" in answers[0].headers

        link = await link_mailed_to(server, ADMIN)
        assert link.startswith(f"{server.url}/api/admin/auth?token=")
        assert (await http.get("/api/admin/metrics")).status_code == 401

        opened = await http.get(link.removeprefix(server.url))
        assert opened.status_code == 302 and opened.headers["location"] == f"{WEB}/admin"
        attributes = cookie_attributes(opened)
        assert {"httponly", "samesite=lax", "path=/api/admin", "max-age=86400"} <= attributes

        metrics = await http.get("/api/admin/metrics")
        assert metrics.status_code == 200
        body: dict[str, Any] = metrics.json()
        assert set(body) == {"ai", "jobs", "users"}
        assert set(body["ai"]) == {
            "totalJobs", "avgPromptTokens", "avgCompletionTokens", "totalTokens", "avgLatencyMs",
            "p95LatencyMs", "repairRate", "totalCostUSD", "avgCostPerJobUSD",
        }  # fmt: skip
        assert body["jobs"]["queueDepth"] == 0 and body["users"]["topGenerators"] == []

        again = await http.get(link.removeprefix(server.url))  # a link works once
        assert again.status_code == 400 and again.json()["errorCode"] == "ADMIN_LINK_INVALID"

        # No CSRF token here, but the Origin must be ours.
        foreign = await http.post("/api/admin/logout", headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403 and foreign.json()["errorCode"] == "CSRF_FAILED"
        bare = httpx.Request("POST", f"{server.url}/api/admin/logout")
        http.cookies.set_cookie_header(bare)
        assert (await http.send(bare)).status_code == 403

        out = await http.post("/api/admin/logout")
        assert out.status_code == 200 and "message" in out.json()
        cleared = cookie_attributes(out)
        assert {"httponly", "samesite=lax", "path=/api/admin", "max-age=0"} <= cleared
        assert (await http.get("/api/admin/metrics")).status_code == 401


async def test_request_access_is_limited_alike_for_every_address(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers={"Origin": WEB}) as http:
        statuses = {
            address: [
                (await http.post("/api/admin/request-access", json={"email": address})).status_code
                for _ in range(4)
            ]
            for address in (ADMIN,)
        }
        assert statuses[ADMIN] == [200, 200, 200, 429]
    # Another client, a non-admin address: the same limit per address.
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Origin": WEB, "X-Forwarded-For": "10.9.9.9"}
    ) as http:
        # (no trusted proxies: the client address is the same; the limit already holds for it)
        refused = await http.post("/api/admin/request-access", json={"email": "x@example.com"})
        assert refused.status_code == 429
