"""Nothing lost, nothing charged twice: a few hundred jobs on the real adapters while we break things.

Faults injected while the jobs run: model 429/500/timeouts/garbage/refusals (by prompt directives to
the fake OpenAI server), S3 503s (a proxy in front of moto), SIGKILL of a worker mid-job, a Redis
restart (which loses every queued message: Redis here keeps nothing on disk), and every Postgres
connection dropped. Afterwards the invariants of docs/reliability.md must hold.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import create_database, drop_database, run_in_fresh_loop
from tests.e2e.conftest import local_settings
from tests.support.live import LiveServer, start_server
from tests.support.moto_server import FaultyProxy
from tests.support.real_stack import RealServices, WorkerProcess, flush_redis

pytestmark = [pytest.mark.real, pytest.mark.timeout(400)]

USERS = 20
JOBS_PER_USER = 10
START_CREDITS = 12
BOUND_SECONDS = 180  # every job must be terminal within this, faults included

DIRECTIVES = (
    [""] * 10
    + ["[fake:500x1]"] * 3
    + ["[fake:429x2]"] * 2
    + ["[fake:400]"]
    + ["[fake:prose]"]
    + ["[fake:slowx1]"]
    + ["[fake:garbagex1]"] * 2
)


def restart_redis() -> None:
    subprocess.run(
        ["redis-cli", "-p", "6379", "shutdown", "nosave"],
        capture_output=True,
        timeout=10,
        check=False,
    )
    time.sleep(0.5)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/var/lib/redis",
            "--logfile",
            "/var/log/redis/ci.log",
        ],
        capture_output=True,
        timeout=10,
        check=True,
    )
    for _ in range(50):
        if (
            subprocess.run(
                ["redis-cli", "-p", "6379", "ping"], capture_output=True, text=True, check=False
            ).stdout.strip()
            == "PONG"
        ):
            return
        time.sleep(0.1)
    raise RuntimeError("redis did not come back")


async def drop_postgres_connections(url: str) -> int:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return int(result.scalar() or 0)
    finally:
        await engine.dispose()


async def fetch_rows(url: str, sql: str) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql))).all())
    finally:
        await engine.dispose()


def test_invariants_hold_under_faults(real_services: RealServices, tmp_path: Path) -> None:
    # A database and a Redis database of its own: no other test's worker (the e2e session worker
    # shares the session's) may take these jobs.
    pg = run_in_fresh_loop(create_database)
    redis_url = real_services.redis_url.rsplit("/", 1)[0] + "/12"
    flush_redis(redis_url)
    try:
        _run(real_services, pg, redis_url, tmp_path)
    finally:
        run_in_fresh_loop(lambda: drop_database(pg))


def _run(real_services: RealServices, pg: str, redis_url: str, tmp_path: Path) -> None:
    proxy = FaultyProxy(real_services.s3_endpoint)
    proxy.start()
    settings = local_settings(
        tmp_path,
        **real_services.settings_values(
            database_url=pg,
            redis_url=redis_url,
            s3_endpoint_url=proxy.url,
            start_credits=START_CREDITS,
            rate_generate="1000000/60",
            rate_register="1000000/60",
            lease_seconds=6,
            stale_queued_seconds=5,
            reaper_interval_seconds=1,
            max_attempts=4,
            backoff_base_seconds=0.2,
            backoff_cap_seconds=1.0,
            openai_timeout_seconds=1.5,
            circuit_threshold=1000,
        ),
    )
    live: LiveServer = start_server(settings)
    workers = [
        WorkerProcess(settings, threads=16, log_path=tmp_path / f"worker{i}.log") for i in range(2)
    ]
    injected: list[str] = []
    try:
        tokens = run_in_fresh_loop(lambda: _register_users(live.url))
        expected_jobs = run_in_fresh_loop(lambda: _submit_all(live.url, tokens))
        assert len(expected_jobs) == USERS * JOBS_PER_USER

        started = time.monotonic()
        # The faults, spread over the first seconds of the run.
        time.sleep(0.5)
        proxy.fail_next(15, 503)
        injected.append("S3 503 x15")
        time.sleep(1.0)
        workers[0].kill()
        injected.append("SIGKILL worker 0")
        workers.append(
            WorkerProcess(settings, threads=16, log_path=tmp_path / "worker-replacement.log")
        )
        time.sleep(1.0)
        dropped = run_in_fresh_loop(lambda: drop_postgres_connections(pg))
        injected.append(f"dropped {dropped} Postgres connections")
        restart_redis()
        injected.append("Redis restart (queued messages lost)")
        time.sleep(1.0)
        workers[1].process.terminate()  # graceful: finishes or hands back its jobs
        injected.append("SIGTERM worker 1")

        deadline = started + BOUND_SECONDS
        while time.monotonic() < deadline:
            open_jobs = run_in_fresh_loop(
                lambda: fetch_rows(
                    pg, "SELECT count(*) FROM generation_jobs WHERE status IN ('QUEUED','RUNNING')"
                )
            )[0][0]
            if open_jobs == 0:
                break
            time.sleep(1.0)
        elapsed = time.monotonic() - started
        _check_invariants(
            pg,
            settings.s3_bucket or "",
            real_services.s3_endpoint,
            expected_jobs,
            elapsed,
            injected,
        )
    finally:
        live.stop()
        for worker in workers:
            worker.stop(timeout=20)
        proxy.stop()


async def _register_users(base: str) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def one(i: int) -> str:
            csrf = (await http.get("/api/csrf")).json()["csrfToken"]
            response = await http.post(
                "/api/auth/register",
                json={
                    "email": f"fault{i}@example.com",
                    "password": "correct horse",
                    "name": f"F{i}",
                    "agreedToTerms": True,
                },
                headers={"X-CSRF-Token": csrf},
                cookies={"csrf-token": csrf},
            )
            assert response.status_code == 201, response.text
            return str(response.cookies["token"])

        return [await one(i) for i in range(USERS)]


async def _submit_all(base: str, tokens: list[str]) -> dict[str, str]:
    rng = random.Random(7)
    jobs: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        semaphore = asyncio.Semaphore(20)

        async def submit(token: str, n: int) -> None:
            directive = rng.choice(DIRECTIVES)
            async with semaphore:
                response = await http.post(
                    "/api/svg/generate-svg",
                    json={"prompt": f"fault run job {n} {directive}", "style": "flat"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            assert response.status_code == 202, response.text
            jobs[response.json()["job"]["id"]] = directive

        await asyncio.gather(
            *(
                submit(t, u * JOBS_PER_USER + k)
                for u, t in enumerate(tokens)
                for k in range(JOBS_PER_USER)
            )
        )
    return jobs


def _check_invariants(
    pg: str,
    bucket: str,
    s3_endpoint: str,
    expected: dict[str, str],
    elapsed: float,
    injected: list[str],
) -> None:
    jobs = run_in_fresh_loop(
        lambda: fetch_rows(pg, "SELECT id, user_id, status, error_code, cost FROM generation_jobs")
    )
    ledger = run_in_fresh_loop(
        lambda: fetch_rows(pg, "SELECT user_id, delta, reason, job_id FROM credit_ledger")
    )
    balances = dict(run_in_fresh_loop(lambda: fetch_rows(pg, "SELECT id, credits FROM users")))
    generations = run_in_fresh_loop(
        lambda: fetch_rows(pg, "SELECT job_id, storage_key FROM svg_generations")
    )

    # 1. Every job is terminal within the bound.
    statuses = Counter(j.status for j in jobs)
    assert {j.id for j in jobs} == set(expected)
    assert statuses["QUEUED"] == statuses["RUNNING"] == 0, (statuses, elapsed, injected)
    assert elapsed < BOUND_SECONDS

    # 2. Money: at most one charge and one refund per job, refunds only after charges,
    #    balance = ledger sum = initial - SUCCEEDED jobs.
    per_job: dict[str, Counter[str]] = defaultdict(Counter)
    for row in ledger:
        if row.job_id:
            per_job[row.job_id][row.reason] += 1
    for job_id, reasons in per_job.items():
        assert reasons["GENERATION_CHARGE"] <= 1 and reasons["GENERATION_REFUND"] <= 1, (
            job_id,
            reasons,
        )
        assert reasons["GENERATION_REFUND"] <= reasons["GENERATION_CHARGE"]
    succeeded_by_user: Counter[str] = Counter(j.user_id for j in jobs if j.status == "SUCCEEDED")
    ledger_sum: Counter[str] = Counter()
    for row in ledger:
        ledger_sum[row.user_id] += row.delta
    for user_id, balance in balances.items():
        assert balance == ledger_sum[user_id] == START_CREDITS - succeeded_by_user[user_id], user_id
    for job in jobs:
        reasons = per_job.get(job.id, Counter())
        if job.status == "SUCCEEDED":
            assert reasons == Counter({"GENERATION_CHARGE": 1}), (job.id, reasons)
        else:
            assert reasons["GENERATION_CHARGE"] == reasons["GENERATION_REFUND"], (job.id, reasons)

    # 3. Artifacts: every SUCCEEDED job's exists, and every stored one belongs to a SUCCEEDED job.
    succeeded = {j.id for j in jobs if j.status == "SUCCEEDED"}
    assert {g.job_id for g in generations} == succeeded
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    stored = {
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    }
    assert stored == {g.storage_key for g in generations}, (len(stored), len(generations))

    # 4. The outcomes follow the faults: permanent refusals fail, transient faults recover.
    by_id = {j.id: j for j in jobs}
    for job_id, directive in expected.items():
        job = by_id[job_id]
        if directive == "[fake:400]":
            assert (job.status, job.error_code) == ("FAILED", "PROVIDER_REFUSED")
        elif directive == "[fake:prose]":
            assert (job.status, job.error_code) == ("FAILED", "INVALID_SVG")
        elif directive in ("", "[fake:500x1]", "[fake:slowx1]", "[fake:garbagex1]"):
            assert job.status == "SUCCEEDED", (job_id, directive, job.error_code)
    print(f"\nfault run: {len(jobs)} jobs, {dict(statuses)}, {elapsed:.1f}s, injected: {injected}")
