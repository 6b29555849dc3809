"""/api/paypal over real HTTP: a local-mode server (its embedded worker handles the events)
wired to the fake PayPal server, which delivers signed webhooks to it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chatsvg.entrypoints.fake_paypal import FakePayPal, FakePayPalState
from tests.e2e.conftest import local_settings
from tests.support.live import ApiClient, LiveServer, free_port, start_server


@pytest.fixture
def paypal_server(tmp_path: Any) -> Iterator[tuple[LiveServer, FakePayPal]]:
    fake = FakePayPal(FakePayPalState()).start()
    port = free_port()
    fake.state.webhook_url = f"http://127.0.0.1:{port}/api/paypal/webhook"
    settings = local_settings(
        tmp_path,
        public_url=f"http://127.0.0.1:{port}",
        paypal_client_id=fake.state.client_id,
        paypal_client_secret=fake.state.client_secret,
        paypal_base_url=fake.url,
        paypal_webhook_id=fake.state.webhook_id,
        paypal_supporter_plan_id=fake.state.plan_id,
    )
    live = start_server(settings, port)
    yield live, fake
    live.stop()
    fake.stop()


async def wait_for(client: ApiClient, predicate: Any, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = (await client.get("/api/paypal/status")).json()
        if predicate(body) or time.monotonic() > deadline:
            return dict(body)
        await asyncio.sleep(0.1)


async def test_subscribe_approve_cancel_over_http(
    paypal_server: tuple[LiveServer, FakePayPal],
) -> None:
    live, fake = paypal_server
    client = ApiClient(live.url, origin="http://localhost:5173")
    try:
        await client.register("buyer@example.com")
        plans = (await client.get("/api/plans")).json()
        assert plans["billing"] == {"provider": "paypal", "enabled": True}
        created = await client.post("/api/paypal/create-subscription")
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["status"] == "APPROVAL_PENDING"
        assert body["subscriptionId"].startswith("I-")
        assert body["approveUrl"].startswith(fake.url)

        # The buyer approves at PayPal, which sends them back to the web client's return page.
        approval = httpx.get(body["approveUrl"], follow_redirects=False, timeout=30)
        assert approval.status_code == 302
        assert approval.headers["location"].startswith(
            "http://localhost:5173/billing/paypal/success"
        )
        status = await wait_for(client, lambda b: b["plan"] == "SUPPORTER" and b["credits"] == 310)
        assert status["plan"] == "SUPPORTER"
        assert status["credits"] == 310  # 10 to start, 300 on activation, once
        paypal = status["paypal"]
        assert paypal["subscriptionId"] == body["subscriptionId"]
        assert paypal["status"] == "ACTIVE"
        assert paypal["customerId"] and paypal["planId"] == fake.state.plan_id
        assert paypal["remote"]["status"] == "ACTIVE"
        me = (await client.get("/api/auth/current-user")).json()
        assert me["plan"] == "SUPPORTER"
        ledger = (await client.get("/api/user/credits/ledger")).json()["items"]
        grants = [i for i in ledger if i["reason"] == "PLAN_GRANT"]
        assert [(g["delta"], g["jobId"]) for g in grants] == [(300, None)]

        # A forged delivery is refused, and changes nothing.
        forged = httpx.post(
            f"{fake.url}/fake/events",
            json={
                "event_type": "BILLING.SUBSCRIPTION.CANCELLED",
                "resource": {"id": body["subscriptionId"], "status": "CANCELLED"},
                "forge": True,
            },
            timeout=30,
        ).json()
        assert forged["delivery"]["status"] == 400
        assert '"errorCode":"INVALID_WEBHOOK"' in forged["delivery"]["body"]

        cancelled = await client.post("/api/paypal/subscription/cancel")
        assert cancelled.status_code == 200 and cancelled.json() == {"ok": True}
        status = await wait_for(client, lambda b: b["plan"] == "FREE")
        assert status["plan"] == "FREE"
        assert status["credits"] == 310  # credits kept
        again = await client.post("/api/paypal/subscription/cancel")
        assert again.status_code == 400
        assert again.json()["errorCode"] == "NO_SUBSCRIPTION"
    finally:
        await client.aclose()


ROUTES = [
    ("POST", "/api/paypal/create-subscription"),
    ("POST", "/api/paypal/subscription/cancel"),
    ("GET", "/api/paypal/status"),
    ("POST", "/api/paypal/webhook"),
]


async def test_billing_off_answers_503_on_every_route(tmp_path: Any) -> None:
    live = start_server(local_settings(tmp_path))
    client = ApiClient(live.url)
    try:
        await client.load_page()  # a well-behaved client: the CSRF check passes
        for signed_in in (False, True):
            if signed_in:
                await client.register("someone@example.com")
            for method, path in ROUTES:
                response = await client.http.request(
                    method,
                    path,
                    headers=client._headers({"Content-Type": "application/json"}),
                    content=b'{"id": "WH-1", "event_type": "X"}' if "webhook" in path else None,
                )
                assert response.status_code == 503, (method, path, response.text)
                problem = response.json()
                assert problem["errorCode"] == "BILLING_DISABLED"
                assert problem["error"] == "PayPal billing is not enabled"
        plans = await client.get("/api/plans")
        assert plans.status_code == 200  # plans do not depend on billing
        assert plans.json()["billing"] == {"provider": "paypal", "enabled": False}
    finally:
        await client.aclose()
        live.stop()


async def test_the_quota_answers_429_with_the_reset_time(tmp_path: Any) -> None:
    live = start_server(
        local_settings(tmp_path, plan_quotas=True, plan_free_generations=2, offline_delay_seconds=0)
    )
    client = ApiClient(live.url)
    try:
        await client.register("counter@example.com")
        for n in range(2):
            ok = await client.post("/api/svg/generate-svg", {"prompt": f"a fox {n}"})
            assert ok.status_code == 202, ok.text
        refused = await client.post("/api/svg/generate-svg", {"prompt": "one more fox"})
        assert refused.status_code == 429
        assert refused.json()["errorCode"] == "QUOTA_EXCEEDED"
        assert refused.headers["x-ratelimit-limit"] == "2"
        assert refused.headers["x-ratelimit-remaining"] == "0"
        reset = int(refused.headers["x-ratelimit-reset"])
        assert reset > time.time() + 29 * 86400
        assert int(refused.headers["retry-after"]) > 29 * 86400
    finally:
        await client.aclose()
        live.stop()
