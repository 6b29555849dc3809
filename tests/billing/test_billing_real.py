"""Billing on the production stack: Postgres, Redis, a `chatsvg worker` process consuming the
`handle_billing_event` task from Dramatiq, and the fake PayPal server calling the API's webhook."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatsvg.entrypoints.fake_paypal import FakePayPal, FakePayPalState
from chatsvg.entrypoints.settings import load_settings
from tests.conftest import run_in_fresh_loop, truncate_all
from tests.support.live import ApiClient, free_port, start_server
from tests.support.real_stack import RealServices, WorkerProcess, flush_redis

pytestmark = pytest.mark.real


async def _truncate(url: str) -> None:
    from chatsvg.adapters.sql.engine import SqlDatabase

    db = SqlDatabase(url)
    try:
        await truncate_all(db)
    finally:
        await db.dispose()


async def test_the_worker_handles_paypal_events_from_the_queue(
    real_services: RealServices, tmp_path: Path
) -> None:
    run_in_fresh_loop(lambda: _truncate(real_services.postgres_url))
    flush_redis(real_services.redis_url)
    fake = FakePayPal(FakePayPalState()).start()
    port = free_port()
    fake.state.webhook_url = f"http://127.0.0.1:{port}/api/paypal/webhook"
    values: dict[str, Any] = real_services.settings_values(
        data_dir=str(tmp_path),
        public_url=f"http://127.0.0.1:{port}",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        paypal_client_id=fake.state.client_id,
        paypal_client_secret=fake.state.client_secret,
        paypal_base_url=fake.url,
        paypal_webhook_id=fake.state.webhook_id,
        paypal_supporter_plan_id=fake.state.plan_id,
    )
    settings = load_settings({}, **values)
    assert not settings.runs_embedded_worker  # the events go through Dramatiq to the worker
    worker = WorkerProcess(settings, threads=2, log_path=tmp_path / "worker.log")
    live = start_server(settings, port)
    client = ApiClient(live.url)
    try:
        await client.register("real@example.com")
        created = (await client.post("/api/paypal/create-subscription")).json()
        await asyncio.to_thread(httpx.get, created["approveUrl"], timeout=30)
        deadline = time.monotonic() + 30
        while True:
            status = (await client.get("/api/paypal/status")).json()
            if status["plan"] == "SUPPORTER" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert (status["plan"], status["credits"]) == ("SUPPORTER", 310)
        assert (await client.post("/api/paypal/subscription/cancel")).status_code == 200
        deadline = time.monotonic() + 30
        while (await client.get("/api/paypal/status")).json()["plan"] != "FREE":
            assert time.monotonic() < deadline, "the CANCELLED event was not handled"
            await asyncio.sleep(0.2)
    finally:
        await client.aclose()
        live.stop()
        worker.stop()
        fake.stop()
