"""The provider circuit's whole cycle on a real `chatsvg worker` process against a model server:
closed → open → half-open probe fails → open → half-open probe answers → closed, and then every
later job runs at once (the defect was a worker that held every job back after its first probe).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import create_database, drop_database, run_in_fresh_loop
from tests.e2e.conftest import local_settings
from tests.support.fake_openai import running_process
from tests.support.live import ApiClient, start_server
from tests.support.real_stack import RealServices, WorkerProcess, flush_redis

pytestmark = [pytest.mark.real, pytest.mark.timeout(180)]

COOLDOWN = 2.0


def test_the_breaker_opens_probes_reopens_closes_and_then_holds_nothing_back(
    real_services: RealServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATSVG_MAIL_BACKEND", "none")
    pg = run_in_fresh_loop(create_database)
    redis_url = "redis://127.0.0.1:6379/10"
    flush_redis(redis_url)
    # Three failures open the circuit; the first probe fails too; everything after answers.
    with running_process(latency=0.1, script=["500"] * 4) as model:
        settings = local_settings(
            tmp_path,
            **real_services.settings_values(
                database_url=pg,
                redis_url=redis_url,
                openai_base_url=model.base_url,
                circuit_threshold=3,
                circuit_cooldown_seconds=COOLDOWN,
                backoff_base_seconds=0.05,
                backoff_cap_seconds=0.1,
                max_attempts=10,
                argon2_time_cost=1,
                argon2_memory_kib=1024,
            ),
        )
        live = start_server(settings)
        workers: list[WorkerProcess] = []

        def start_worker() -> None:
            workers.append(WorkerProcess(settings, threads=4, log_path=tmp_path / "worker.log"))

        try:
            first, later, finished_after = asyncio.run(_run(live.url, start_worker))
        finally:
            for worker in workers:
                worker.stop()
            live.stop()
            run_in_fresh_loop(lambda: drop_database(pg))
        arrivals: list[list[Any]] = model.requests()["arrivals"]

    outcomes = [outcome for _, outcome in arrivals]
    assert outcomes[:4] == ["500", "500", "500", "500"] and set(outcomes[4:]) == {"fence"}
    times = [t for t, _ in arrivals]
    # Open after the third failure: no call for the cooldown, then one probe (the fourth call).
    assert times[3] - times[2] >= COOLDOWN * 0.9, times[:5]
    # The probe failed: open again for the cooldown, then the next probe answers.
    assert times[4] - times[3] >= COOLDOWN * 0.9, times[:6]
    assert all(job["status"] == "SUCCEEDED" for job in first + later)
    # Closed: the later jobs were not held back (each takes one model call, no cooldown waits).
    assert finished_after < COOLDOWN, finished_after
    events = [
        json.loads(line)["event"]
        for line in (tmp_path / "worker.log").read_text().splitlines()
        if line.startswith("{")
    ]
    circuit = [e for e in events if e.startswith("provider circuit")]
    assert circuit == [
        "provider circuit opened",
        "provider circuit half-open: probing",
        "provider circuit opened",
        "provider circuit half-open: probing",
        "provider circuit closed",
    ], circuit


async def _run(
    url: str, start_worker: Callable[[], None]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], float]:
    client = ApiClient(url)
    try:
        await client.register("circuit@example.com")
        # Three jobs wait before the worker starts, so their three calls are made at once and
        # fail together: the third failure opens the circuit.
        first_ids = [await _submit(client, f"circuit job {i}") for i in range(3)]
        await asyncio.to_thread(start_worker)
        first = [(await client.wait_job(job_id, timeout=60))["job"] for job_id in first_ids]
        started = time.monotonic()
        later = [await _submit(client, f"after the probe {i}") for i in range(5)]
        later = [(await client.wait_job(job_id, timeout=60))["job"] for job_id in later]
        return first, later, time.monotonic() - started
    finally:
        await client.aclose()


async def _submit(client: ApiClient, prompt: str) -> str:
    response = await client.post("/api/svg/generate-svg", {"prompt": prompt})
    assert response.status_code == 202, response.text
    return str(response.json()["job"]["id"])
