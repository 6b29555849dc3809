"""`chatsvg admin billing show|replay` on a local-mode database that went through a real
subscription (over HTTP, with the fake PayPal server)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from chatsvg.entrypoints.cli import main
from chatsvg.entrypoints.fake_paypal import FakePayPal, FakePayPalState
from tests.e2e.conftest import local_settings
from tests.support.live import ApiClient, free_port, start_server


async def test_show_and_replay(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakePayPal(FakePayPalState()).start()
    port = free_port()
    fake.state.webhook_url = f"http://127.0.0.1:{port}/api/paypal/webhook"
    paypal = {
        "paypal_client_id": fake.state.client_id,
        "paypal_client_secret": fake.state.client_secret,
        "paypal_base_url": fake.url,
        "paypal_webhook_id": fake.state.webhook_id,
        "paypal_supporter_plan_id": fake.state.plan_id,
    }
    settings = local_settings(tmp_path, public_url=f"http://127.0.0.1:{port}", **paypal)
    live = start_server(settings, port)
    client = ApiClient(live.url)
    try:
        await client.register("cli@example.com")
        created = (await client.post("/api/paypal/create-subscription")).json()
        httpx.get(created["approveUrl"], timeout=30)
        deadline = time.monotonic() + 15
        while (await client.get("/api/paypal/status")).json()["plan"] != "SUPPORTER":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
    finally:
        await client.aclose()
        live.stop()

    monkeypatch.setenv("CHATSVG_DATA_DIR", settings.data_dir)
    for name, value in paypal.items():
        monkeypatch.setenv(name.upper(), value)
    assert await asyncio.to_thread(main, ["admin", "billing", "show", "cli@example.com"]) == 0
    out = capsys.readouterr().out
    assert "plan SUPPORTER, balance 310" in out
    assert created["subscriptionId"] in out and "ACTIVE" in out
    assert "BILLING.SUBSCRIPTION.ACTIVATED" in out and "PAYMENT.SALE.COMPLETED" in out
    event_id = next(
        line.split()[0] for line in out.splitlines() if "SUBSCRIPTION.ACTIVATED" in line
    )
    assert await asyncio.to_thread(main, ["admin", "billing", "replay", event_id]) == 0
    assert "done" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["admin", "billing", "show", "cli@example.com"]) == 0
    assert "balance 310" in capsys.readouterr().out  # replayed: nothing granted twice
    assert await asyncio.to_thread(main, ["admin", "billing", "replay", "WH-NONE"]) == 1
    fake.stop()
