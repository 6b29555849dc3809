"""The product as an operator runs it, while things break: nothing is lost, nothing charged twice.

Two `chatsvg serve` and two `chatsvg worker` processes in production mode on Postgres, Redis and
an S3 server, each reached through a TCP proxy that can take it away (every open connection cut,
new ones refused for a few seconds, then back), and a model that answers after a second and
says 429 to 10 % of the calls and 500 to 5 %. Ten users submit a hundred prompts over about ten
seconds, through either API process, watching their jobs on a socket of the other. The circuit
breaker and every timing are the production defaults.

Afterwards: every job is terminal within two minutes of the last fault; each SUCCEEDED job was
charged once and never refunded, every other one refunded exactly once; each user's balance is
the sum of their ledger; the bucket holds exactly the SUCCEEDED jobs' files; no request got a
500; no socket saw a job go back; and every socket, connected through it all, saw each of its
user's jobs reach the end it has in the database (pushes made while Redis was away are sent when
it is back, and an API process that lost its subscription catches its sockets up).

The suite runs the scenario with every outage in one run; `make chaos` runs each scenario on its
own, three times (CHAOS_SCENARIOS and CHAOS_RUNS choose).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx
import pytest

from tests.conftest import create_database, drop_database, run_in_fresh_loop
from tests.e2e.conftest import local_settings
from tests.e2e.test_generation_flow import SocketWatcher
from tests.e2e.test_multiprocess import ApiProcess
from tests.faults.test_fault_injection import fetch_rows
from tests.support.fake_openai import running_process
from tests.support.live import free_port
from tests.support.real_stack import (
    AWS_ENV,
    PROJECT_ROOT,
    RealServices,
    WorkerProcess,
    flush_redis,
    settings_env,
)
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.real, pytest.mark.timeout(600)]

USERS = 10
JOBS_PER_USER = 10
OUTAGE_SECONDS = 3.0
BOUND_AFTER_LAST_FAULT = 120.0
SCENARIOS = {
    "model": [],
    "redis": ["redis"],
    "postgres": ["postgres"],
    "s3": ["s3"],
    "all": ["redis", "postgres", "s3"],
}


def _chosen() -> list[str]:
    names = os.environ.get("CHAOS_SCENARIOS", "all").split(",")
    runs = int(os.environ.get("CHAOS_RUNS", "1"))
    return [name.strip() for name in names if name.strip()] * runs


@dataclass
class Outcome:
    submitted: dict[str, str] = field(default_factory=dict)  # job id -> user id
    statuses: Counter[int] = field(default_factory=Counter)  # HTTP statuses of every submit try
    faults: list[tuple[str, float]] = field(default_factory=list)  # (what, when it ended)
    open_jobs: int = -1  # jobs not terminal when the wait for them ended
    settled_after: float = 0.0  # seconds from the last fault to no open job
    unseen_ends: list[str] = field(default_factory=list)  # jobs whose end no socket of theirs saw


@pytest.mark.parametrize("scenario", _chosen())
def test_nothing_is_lost_under_model_faults_and_outages(
    scenario: str, real_services: RealServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outages = SCENARIOS[scenario]
    monkeypatch.setenv("CHATSVG_MAIL_BACKEND", "none")  # no mail is sent here
    pg = run_in_fresh_loop(create_database)
    redis_db = 11
    flush_redis(f"redis://127.0.0.1:6379/{redis_db}")
    moto = urlsplit(real_services.s3_endpoint)
    with ExitStack() as stack:
        proxies = {
            "postgres": stack.enter_context(TcpProxy("127.0.0.1", 5432)),
            "redis": stack.enter_context(TcpProxy("127.0.0.1", 6379)),
            "s3": stack.enter_context(TcpProxy(moto.hostname or "127.0.0.1", moto.port or 80)),
        }
        model = stack.enter_context(
            running_process(latency=1.0, chance={"429": 0.10, "500": 0.05}, seed=len(outages))
        )
        pg_path = urlsplit(pg).path
        settings = local_settings(
            tmp_path,
            **real_services.settings_values(
                database_url=f"postgresql+asyncpg://postgres@{proxies['postgres'].url_host}{pg_path}",
                redis_url=f"redis://{proxies['redis'].url_host}/{redis_db}",
                s3_endpoint_url=f"http://{proxies['s3'].url_host}",
                openai_base_url=model.base_url,
                argon2_time_cost=1,
                argon2_memory_kib=1024,
            ),
        )
        env = {
            **os.environ,
            **AWS_ENV,
            **settings_env(settings),
            "PYTHONPATH": str(PROJECT_ROOT / "src"),
        }
        env.pop("CHATSVG_PUBLIC_URL", None)
        apis = [ApiProcess(env, free_port(), tmp_path / f"api{i}.log") for i in range(2)]
        for api in apis:
            stack.callback(api.stop)
        for i in range(2):
            worker = WorkerProcess(settings, log_path=tmp_path / f"worker{i}.log")
            stack.callback(worker.stop)
        outcome = asyncio.run(_drive([api.url for api in apis], proxies, outages, pg))
        open_jobs, settled_after = outcome.open_jobs, outcome.settled_after
        try:
            assert open_jobs == 0, (
                f"{open_jobs} jobs not terminal {BOUND_AFTER_LAST_FAULT:.0f} s after the last "
                f"fault ({scenario}); logs in {tmp_path}"
            )
            _check_money_and_files(pg, settings.s3_bucket or "", real_services, outcome)
            assert not outcome.unseen_ends, (
                f"no socket saw the end of {len(outcome.unseen_ends)} jobs: "
                f"{outcome.unseen_ends[:5]}; logs in {tmp_path}"
            )
            assert outcome.statuses[500] == 0, outcome.statuses
            print(
                f"\nchaos[{scenario}]: {len(outcome.submitted)} jobs, "
                f"{dict(Counter(r.status for r in _jobs(pg)))}, terminal {settled_after:.1f} s "
                f"after the last fault; submit answers {dict(outcome.statuses)}; "
                f"faults {[name for name, _ in outcome.faults]}; model calls "
                f"{model.requests().get('outcomes')}"
            )
        finally:
            stack.close()
            run_in_fresh_loop(lambda: drop_database(pg))


async def _drive(
    urls: list[str], proxies: dict[str, TcpProxy], outages: list[str], pg: str
) -> Outcome:
    outcome = Outcome()
    users = [await _register(urls[i % 2], i) for i in range(USERS)]
    watchers: list[SocketWatcher] = []
    for i, (token, _user_id) in enumerate(users):
        watcher = SocketWatcher()
        await watcher.connect(urls[(i + 1) % 2], token)  # the other process than the submits
        watchers.append(watcher)

    async def inject() -> None:
        await asyncio.sleep(1.5)
        for name in outages:
            await asyncio.to_thread(proxies[name].outage, OUTAGE_SECONDS)
            outcome.faults.append((name, time.monotonic()))
            await asyncio.sleep(1.0)

    try:
        async with httpx.AsyncClient(timeout=30) as http:
            await asyncio.gather(
                inject(),
                *(
                    _submit_series(http, urls[i % 2], token, user_id, i, outcome)
                    for i, (token, user_id) in enumerate(users)
                ),
            )
        last_fault = max((end for _, end in outcome.faults), default=time.monotonic())
        while time.monotonic() < last_fault + BOUND_AFTER_LAST_FAULT:
            outcome.open_jobs = await asyncio.to_thread(_open_jobs, pg)
            if outcome.open_jobs == 0:
                break
            await asyncio.sleep(1.0)
        outcome.settled_after = time.monotonic() - last_fault
        if outcome.open_jobs == 0:
            outcome.unseen_ends = await _ends_unseen(
                watchers, users, await asyncio.to_thread(_jobs, pg)
            )
    finally:
        for watcher in watchers:
            _check_order(watcher)
            await watcher.close()
    return outcome


async def _register(url: str, i: int) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        csrf = (await http.get("/api/csrf")).json()["csrfToken"]
        response = await http.post(
            "/api/auth/register",
            json={
                "email": f"chaos{i}@example.com",
                "password": "correct horse",
                "name": f"Chaos {i}",
                "agreedToTerms": True,
            },
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 201, response.text
        return str(response.cookies["token"]), str(response.json()["user"]["id"])


async def _submit_series(
    http: httpx.AsyncClient, url: str, token: str, user_id: str, i: int, outcome: Outcome
) -> None:
    """One prompt a second, each retried (same idempotency key) until it is accepted, as a
    careful client does when a request fails on the way or answers 503."""
    for k in range(JOBS_PER_USER):
        key = uuid.uuid4().hex
        deadline = time.monotonic() + 60
        while True:
            try:
                response = await http.post(
                    f"{url}/api/svg/generate-svg",
                    json={"prompt": f"chaos picture {i}-{k} of a lighthouse", "style": "flat"},
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                )
                outcome.statuses[response.status_code] += 1
                if response.status_code in (200, 202):
                    outcome.submitted[response.json()["job"]["id"]] = user_id
                    break
                assert response.status_code in (502, 503, 504), response.text
            except httpx.TransportError:
                outcome.statuses[0] += 1
            assert time.monotonic() < deadline, "a submit was never accepted"
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)


async def _ends_unseen(
    watchers: list[SocketWatcher], users: list[tuple[str, str]], jobs: list[Any]
) -> list[str]:
    """The jobs whose terminal status their user's socket has not seen within 15 s of the last
    job ending (a loaded machine delays pushes; a lost one never comes)."""
    watcher_of = {user_id: watcher for watcher, (_, user_id) in zip(watchers, users, strict=True)}
    deadline = time.monotonic() + 15.0
    while True:
        unseen = [
            job.id for job in jobs if job.status not in watcher_of[job.user_id].statuses(job.id)
        ]
        if not unseen or time.monotonic() > deadline:
            return unseen
        await asyncio.sleep(0.25)


def _check_order(watcher: SocketWatcher) -> None:
    seqs: dict[str, list[int]] = defaultdict(list)
    for event, data in watcher.events:
        if event == "generation-job:update":
            seqs[data["jobId"]].append(data["seq"])
    for job_id, seen in seqs.items():
        assert seen == sorted(set(seen)), f"job {job_id} went back on a socket: {seen}"


def _open_jobs(pg: str) -> int:
    rows = run_in_fresh_loop(
        lambda: fetch_rows(
            pg, "SELECT count(*) FROM generation_jobs WHERE status IN ('QUEUED', 'RUNNING')"
        )
    )
    return int(rows[0][0])


def _jobs(pg: str) -> list[Any]:
    return list(
        run_in_fresh_loop(
            lambda: fetch_rows(pg, "SELECT id, user_id, status, error_code FROM generation_jobs")
        )
    )


def _check_money_and_files(pg: str, bucket: str, services: RealServices, outcome: Outcome) -> None:
    jobs = _jobs(pg)
    assert {j.id for j in jobs} == set(outcome.submitted), "a job was lost or made twice"
    ledger = run_in_fresh_loop(
        lambda: fetch_rows(pg, "SELECT user_id, delta, reason, job_id FROM credit_ledger")
    )
    balances = dict(run_in_fresh_loop(lambda: fetch_rows(pg, "SELECT id, credits FROM users")))
    per_job: dict[str, Counter[str]] = defaultdict(Counter)
    ledger_sum: Counter[str] = Counter()
    for row in ledger:
        ledger_sum[row.user_id] += row.delta
        if row.job_id:
            per_job[row.job_id][row.reason] += 1
    for job in jobs:
        reasons = per_job.get(job.id, Counter())
        if job.status == "SUCCEEDED":
            assert reasons == Counter({"GENERATION_CHARGE": 1}), (job.id, reasons)
        else:
            assert reasons["GENERATION_CHARGE"] == reasons["GENERATION_REFUND"] <= 1, (
                job.id,
                job.error_code,
                reasons,
            )
    for user_id, balance in balances.items():
        assert balance == ledger_sum[user_id], user_id
    generations = run_in_fresh_loop(
        lambda: fetch_rows(pg, "SELECT job_id, storage_key FROM svg_generations")
    )
    assert {g.job_id for g in generations} == {j.id for j in jobs if j.status == "SUCCEEDED"}
    s3 = boto3.client("s3", endpoint_url=services.s3_endpoint, region_name="us-east-1")
    stored = {
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    }
    assert stored == {g.storage_key for g in generations}, "an artifact is orphaned or missing"
