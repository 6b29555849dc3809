"""Two API processes and two worker processes on Postgres, Redis, moto and the fake OpenAI server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import run_in_fresh_loop
from tests.e2e.conftest import _truncate, local_settings
from tests.e2e.test_generation_flow import SocketWatcher
from tests.support.live import ApiClient, free_port
from tests.support.real_stack import (
    AWS_ENV,
    PROJECT_ROOT,
    RealServices,
    WorkerProcess,
    flush_redis,
    settings_env,
)

pytestmark = pytest.mark.real


class ApiProcess:
    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chatsvg.entrypoints.cli", "serve", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env={**env, "CHATSVG_PUBLIC_URL": self.url},
            stdout=subprocess.DEVNULL,
            stderr=open(log, "ab"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"API process did not start; see {log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="module")
def cluster(
    real_services: RealServices, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[list[ApiProcess], list[WorkerProcess]]]:
    """One cluster for the module's tests (starting four processes takes most of their time);
    each test signs up users of its own."""
    tmp_path = tmp_path_factory.mktemp("cluster")
    run_in_fresh_loop(lambda: _truncate(real_services.postgres_url))
    flush_redis(real_services.redis_url)
    settings = local_settings(
        tmp_path, **real_services.settings_values(argon2_time_cost=1, argon2_memory_kib=1024)
    )
    env = {
        **os.environ,
        **AWS_ENV,
        **settings_env(settings),
        "PYTHONPATH": str(PROJECT_ROOT / "src"),
        # production mode: `chatsvg serve` starts only once mail is configured or turned off
        "CHATSVG_MAIL_BACKEND": "none",
    }
    env.pop("CHATSVG_PUBLIC_URL", None)
    apis: list[ApiProcess] = []
    workers: list[WorkerProcess] = []
    try:
        apis = [ApiProcess(env, free_port(), tmp_path / f"api{i}.log") for i in range(2)]
        workers = [
            WorkerProcess(settings, threads=8, log_path=tmp_path / f"worker{i}.log")
            for i in range(2)
        ]
        yield apis, workers
    finally:
        for api in apis:
            api.stop()
        for worker in workers:
            worker.stop()


async def test_jobs_through_either_api_reach_sockets_on_the_other(
    cluster: tuple[list[ApiProcess], list[WorkerProcess]],
) -> None:
    (api_a, api_b), _workers = cluster
    via_a = ApiClient(api_a.url)
    user = await via_a.register("multi@example.com")
    via_b = ApiClient(api_b.url)
    await via_b.load_page()
    via_b.http.cookies = (
        via_a.http.cookies
    )  # the same browser session, load-balanced across processes
    via_b.csrf = via_a.csrf
    watcher = SocketWatcher()
    await watcher.connect(api_a.url, via_a.http.cookies.get("token"))
    other_user = ApiClient(api_b.url)
    await other_user.register("other@example.com")
    other_watcher = SocketWatcher()
    await other_watcher.connect(api_b.url, other_user.http.cookies.get("token"))
    try:
        job_ids: list[str] = []
        for i in range(8):
            client = via_a if i % 2 == 0 else via_b
            response = await client.post(
                "/api/svg/generate-svg", {"prompt": f"multi process picture {i}"}
            )
            assert response.status_code == 202, response.text
            job_ids.append(response.json()["job"]["id"])
        for job_id in job_ids:
            await watcher.wait_for_status(job_id, "SUCCEEDED", timeout=30)
        for job_id in job_ids:
            statuses = watcher.statuses(job_id)
            assert statuses[0] == "QUEUED" and statuses[-1] == "SUCCEEDED"
            assert statuses.count("SUCCEEDED") == 1
            assert other_watcher.statuses(job_id) == []
        ledger: list[dict[str, Any]] = (await via_b.get("/api/user/credits/ledger")).json()["items"]
        charges = [item["jobId"] for item in ledger if item["reason"] == "GENERATION_CHARGE"]
        assert sorted(charges) == sorted(job_ids)  # each job charged exactly once
        assert (await via_a.get("/api/user/credits")).json()["balance"] == 10 - len(job_ids)
        assert user["credits"] == 10
        await asyncio.sleep(0.2)
        assert sum(1 for e, _ in other_watcher.events if e == "generation-job:update") == 0
    finally:
        await watcher.close()
        await other_watcher.close()
        await via_a.aclose()
        await via_b.aclose()
        await other_user.aclose()


async def test_a_session_ended_on_one_api_process_is_refused_at_once_by_the_other(
    cluster: tuple[list[ApiProcess], list[WorkerProcess]],
) -> None:
    """Each API process caches live sessions; a revocation anywhere must reach every cache."""
    (api_a, api_b), _workers = cluster
    via_a = ApiClient(api_a.url)
    via_b = ApiClient(api_b.url)
    try:
        await via_a.register("cached@example.com")
        access = via_a.http.cookies.get("token")
        bearer = {"Authorization": f"Bearer {access}"}
        assert (await via_b.get("/api/auth/current-user", headers=bearer)).status_code == 200
        assert (await via_b.get("/api/auth/current-user", headers=bearer)).status_code == 200
        out = await via_a.post("/api/auth/logout")
        assert out.status_code == 204
        refused = None
        deadline = time.monotonic() + 1.0  # the announcement crosses Redis in milliseconds
        while time.monotonic() < deadline:
            refused = await via_b.get("/api/auth/current-user", headers=bearer)
            if refused.status_code == 401:
                break
            await asyncio.sleep(0.02)
        assert refused is not None and refused.status_code == 401, "B still trusts the session"
        assert refused.json()["errorCode"] == "UNAUTHENTICATED"
    finally:
        await via_a.aclose()
        await via_b.aclose()
