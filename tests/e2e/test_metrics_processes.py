"""Metrics with several processes, the database-wide figures computed by one process on an
interval, the queue depth, and the worker's liveness (a stuck job loop fails the probe)."""

from __future__ import annotations

import asyncio
import functools
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import dramatiq
import httpx
import pytest
from dramatiq.brokers.stub import StubBroker

from chatsvg.adapters.queue.dramatiq import DramatiqTaskQueue
from chatsvg.adapters.sql.engine import SqlDatabase
from chatsvg.adapters.sql.migrate import upgrade
from chatsvg.application.generation.tasks import GENERATE
from chatsvg.application.tasks import TaskRegistry
from chatsvg.entrypoints.observability import REGISTRY, ClusterFigures, MetricsServer
from chatsvg.entrypoints.scheduler import Scheduler
from chatsvg.entrypoints.worker import JobLoopHeartbeat, TaskRunner
from tests.conftest import run_in_fresh_loop
from tests.e2e.conftest import _truncate, local_settings
from tests.support.live import ApiClient, free_port, start_server
from tests.support.real_stack import (
    AWS_ENV,
    PROJECT_ROOT,
    REDIS_DB_URL,
    RealServices,
    flush_redis,
    settings_env,
)

# Starting several Python processes on a busy two-core machine takes a while.
STARTUP_TIMEOUT = 120


def sample(text: str, name: str, labels: str = "") -> float | None:
    """The value of one sample in a Prometheus text scrape, or None if it is absent."""
    selector = re.escape(f"{name}{{{labels}}}" if labels else name)
    found = re.search(rf"^{selector} (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


def pids_of(text: str, name: str) -> set[int]:
    return {int(pid) for pid in re.findall(rf'^{name}{{pid="(\d+)"}} ', text, re.M)}


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


# -- the queue depth ------------------------------------------------------------------------------


@pytest.mark.real
async def test_the_queue_depth_counts_waiting_and_delayed_messages() -> None:
    """Dramatiq's delay queue is a list; reading it as a sorted set failed every time a retry was
    waiting, and the gauge was never set."""
    queue = DramatiqTaskQueue(
        REDIS_DB_URL, tasks=[GENERATE], namespace=f"chatsvg-depth-{uuid.uuid4().hex[:8]}"
    )
    try:
        assert await queue.depth() == 0
        await queue.enqueue(GENERATE, "job-1")
        await queue.enqueue(GENERATE, "job-2")
        await queue.enqueue(GENERATE, "job-3", delay_seconds=60)
        # A delayed re-run waits in the process (its own gauge), not in Redis, until due...
        assert await queue.depth() == 2 and queue.delayed == 1
        # ...or until shutdown hands it to Dramatiq's delay queue, a list counted like the rest.
        assert await queue.hand_over_delayed() == 1
        assert await queue.depth() == 3 and queue.delayed == 0
    finally:
        keys = await queue._redis.keys(f"{queue.broker.namespace}:*")
        if keys:
            await queue._redis.delete(*keys)
        await queue._redis.aclose()


async def test_the_queue_depth_gauge_follows_the_in_process_queue(tmp_path: Path) -> None:
    """Local mode: the one process computes the figures itself, on the interval."""
    server = start_server(
        local_settings(
            tmp_path, metrics_interval_seconds=0.2, worker_concurrency=1, offline_delay_seconds=1.5
        )
    )
    client = ApiClient(server.url)
    try:
        await client.load_page()
        await client.register("depth@example.com")
        jobs = [
            (await client.post("/api/svg/generate-svg", {"prompt": f"depth {i}"})).json()["job"]
            for i in range(3)
        ]
        seen: list[float | None] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and 2.0 not in seen:
            seen.append(sample((await client.get("/metrics")).text, "chatsvg_queue_depth"))
            await asyncio.sleep(0.1)
        assert 2.0 in seen, seen  # one running (concurrency 1), two waiting
        for job in jobs:
            await client.wait_job(job["id"], timeout=15)
        deadline = time.monotonic() + 5
        text = (await client.get("/metrics")).text
        while sample(text, "chatsvg_jobs", 'status="SUCCEEDED"') != 3.0:
            assert time.monotonic() < deadline, text
            await asyncio.sleep(0.1)
            text = (await client.get("/metrics")).text
        assert sample(text, "chatsvg_queue_depth") == 0.0
    finally:
        await client.aclose()
        server.stop()


# -- one process computes the database-wide figures -------------------------------------------------


@pytest.mark.real
async def test_one_process_computes_the_figures_per_interval_and_every_one_reads_them(
    tmp_path: Path,
) -> None:
    database = SqlDatabase(f"sqlite+aiosqlite:///{tmp_path / 'figures.db'}")
    await upgrade(database.engine)
    prefix = f"chatsvg-test:{uuid.uuid4().hex[:8]}:metrics"
    interval = 0.3
    processes = [
        ClusterFigures(redis_url=REDIS_DB_URL, interval=interval, prefix=prefix) for _ in range(3)
    ]

    queue = DramatiqTaskQueue(REDIS_DB_URL, tasks=[GENERATE], namespace=f"{prefix}:queue")
    await queue.enqueue(GENERATE, "job-1")
    await queue.enqueue(GENERATE, "job-2", delay_seconds=60)
    await queue.hand_over_delayed()  # into Redis's delay queue, where every process sees it

    def computed_so_far() -> float:
        return REGISTRY.get_sample_value("chatsvg_figures_computed_total") or 0.0

    computed_before = computed_so_far()
    started = time.monotonic()
    # What every process schedules (entrypoints/tasks.py `schedule_figures`).
    scheduler = Scheduler()
    for n, p in enumerate(processes):
        refresh = functools.partial(p.refresh, database, queue)
        scheduler.every(interval, f"figures-{n}", refresh, immediately=True)
    scheduler.start()
    try:
        await asyncio.sleep(2.0)
        snapshots = [await p.latest() for p in processes]
    finally:
        await scheduler.stop()
    elapsed = time.monotonic() - started
    computed = computed_so_far() - computed_before
    # Three processes each trying every interval; the lock lets one compute per interval.
    assert 1 <= computed <= elapsed / interval + 1, (computed, elapsed)
    assert all(s is not None for s in snapshots)
    assert {s.computed_at for s in snapshots if s} == {snapshots[0].computed_at}  # type: ignore[union-attr]
    assert snapshots[0] and snapshots[0].queue_depth == 2
    assert snapshots[0].jobs == {"QUEUED": 0, "RUNNING": 0, "SUCCEEDED": 0, "FAILED": 0}
    # Figures nobody refreshes for 4 intervals are dropped, not reported stale.
    await asyncio.sleep(interval * 4 + 0.3)
    assert await processes[0].latest() is None
    for p in processes:
        await p.close()
    await database.dispose()
    keys = await queue._redis.keys(f"{prefix}*")
    await queue._redis.delete(*keys)
    await queue._redis.aclose()


@pytest.fixture
def real_env(real_services: RealServices, tmp_path: Path) -> Iterator[dict[str, str]]:
    run_in_fresh_loop(lambda: _truncate(real_services.postgres_url))
    flush_redis(real_services.redis_url)
    settings = local_settings(
        tmp_path,
        **real_services.settings_values(
            argon2_time_cost=1, argon2_memory_kib=1024, metrics_interval_seconds=0.5
        ),
    )
    env = {
        **os.environ,
        **AWS_ENV,
        **settings_env(settings),
        "PYTHONPATH": str(PROJECT_ROOT / "src"),
    }
    env.pop("CHATSVG_PUBLIC_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.setdefault("CHATSVG_MAIL_BACKEND", "none")  # production mode asks how mail is sent
    yield env


@pytest.mark.real
async def test_two_api_processes_report_the_pods_totals_on_every_scrape(
    real_env: dict[str, str], tmp_path: Path
) -> None:
    temp = tmp_path / "tmp"  # where the parent makes the pod's metrics directory
    temp.mkdir()
    env = {**real_env, "CHATSVG_API_WORKERS": "2", "TMPDIR": str(temp)}
    started = time.monotonic()
    api = ApiPod(env, tmp_path / "api.log")
    try:
        [metrics_dir] = temp.glob("chatsvg-metrics-*")
        client = ApiClient(api.url)
        try:
            await client.load_page()
            await client.register("pod@example.com")
            for i in range(3):
                response = await client.post("/api/svg/generate-svg", {"prompt": f"pod {i}"})
                assert response.status_code == 202, response.text
        finally:
            await client.aclose()
        for _ in range(30):  # new connections, spread over both processes by the kernel
            assert httpx.get(f"{api.url}/health/live").status_code == 200
        recorded_by = {
            int(name.rsplit("_", 1)[1].removesuffix(".db"))
            for name in os.listdir(metrics_dir)
            if name.startswith("histogram_")
        }
        assert len(recorded_by) == 2, recorded_by

        def scrape() -> str:
            return httpx.get(f"{api.url}/metrics").text

        wait_until(
            lambda: sample(scrape(), "chatsvg_credits_total", 'reason="SIGNUP_GRANT"') == 10.0,
            10,
            "the figures",
        )
        for _ in range(6):
            text = scrape()
            live = 'method="GET",route="/health/live",status="200"'
            assert sample(text, "chatsvg_http_request_duration_seconds_count", live) == 30.0
            assert sample(text, "chatsvg_credits_total", 'reason="SIGNUP_GRANT"') == 10.0
            jobs = [
                sample(text, "chatsvg_jobs", f'status="{s}"')
                for s in ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED")
            ]
            assert sum(j or 0 for j in jobs) == 3, jobs
            assert sample(text, "chatsvg_queue_depth") is not None
        elapsed = time.monotonic() - started
        computed = sample(scrape(), "chatsvg_figures_computed_total") or 0
        # Both processes try every 0.5 s; one computes per interval (other processes of the
        # test session may take some turns, never add any).
        assert computed <= elapsed / 0.5 + 1, (computed, elapsed)
    finally:
        api.stop()
    assert not metrics_dir.exists(), "removed on the way out"


# -- the worker's liveness --------------------------------------------------------------------------


def test_worker_liveness_fails_while_the_job_loop_is_blocked_or_dramatiq_threads_died() -> None:
    runner = TaskRunner(TaskRegistry(), cast(Any, None), limit=4)
    heartbeat = JobLoopHeartbeat(max_age=1.0, period=0.1)
    liveness = Scheduler()  # as run_worker schedules it
    liveness.every(heartbeat.period, "heartbeat", heartbeat.beat, jitter=0, immediately=True)
    runner.loop.call_soon_threadsafe(liveness.start)
    server = MetricsServer(0, figures=lambda: None, live=heartbeat.problem, host="127.0.0.1")
    broker = StubBroker()
    broker.declare_queue("default")
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    url = f"http://127.0.0.1:{server.port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/health/live").status_code == 200, 5, "alive")
        # A synchronous call blocks the job loop: the probe fails while it lasts.
        runner.loop.call_soon_threadsafe(time.sleep, 3.0)
        blocked = wait_until(
            lambda: (r := httpx.get(f"{url}/health/live")).status_code == 503 and r, 3, "503"
        )
        assert "has not ticked" in blocked.json()["detail"]
        assert httpx.get(f"{url}/metrics").status_code == 200  # the port itself still answers
        wait_until(lambda: httpx.get(f"{url}/health/live").status_code == 200, 5, "recovered")
        worker.start()
        heartbeat.worker = worker
        assert httpx.get(f"{url}/health/live").status_code == 200
        worker.stop(timeout=2_000)  # Dramatiq's threads end while the process goes on
        dead = httpx.get(f"{url}/health/live")
        assert dead.status_code == 503 and "Dramatiq threads died" in dead.json()["detail"]
        heartbeat.stopping = True  # shutting down on purpose is not a failure
        assert httpx.get(f"{url}/health/live").status_code == 200
        assert httpx.get(f"{url}/nothing").status_code == 404
        metrics = httpx.get(f"{url}/metrics").text
        assert sample(metrics, "chatsvg_worker_heartbeat_timestamp_seconds")
    finally:
        runner.call(liveness.stop())
        server.close()
        runner.stop()


class ApiPod:
    """`chatsvg serve` with CHATSVG_API_WORKERS from `env`, returned once it is ready."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chatsvg.entrypoints.cli", "serve", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env={**env, "CHATSVG_PUBLIC_URL": self.url},
            stdout=subprocess.DEVNULL,
            stderr=open(log, "ab"),  # noqa: SIM115
        )

        def ready() -> bool:
            assert self.process.poll() is None, f"chatsvg serve exited; see {log}"
            try:
                return httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            wait_until(ready, STARTUP_TIMEOUT, "chatsvg serve")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class WorkerPod:
    """`chatsvg worker --processes N` as the container runs it."""

    def __init__(self, env: dict[str, str], processes: int, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chatsvg.entrypoints.cli",
                "worker",
                "--processes",
                str(processes),
                "--threads",
                "4",
            ],
            cwd=PROJECT_ROOT,
            env={**env, "CHATSVG_METRICS_PORT": str(self.port)},
            stdout=subprocess.DEVNULL,
            stderr=open(log, "ab"),  # noqa: SIM115
        )

    def live(self) -> httpx.Response | None:
        try:
            return httpx.get(f"{self.url}/health/live", timeout=2)
        except httpx.HTTPError:
            return None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(5)


@pytest.mark.real
def test_a_worker_pod_of_two_processes_serves_both_and_fails_liveness_for_either(
    real_env: dict[str, str], tmp_path: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**real_env, "CHATSVG_WORKER_LIVENESS_SECONDS": "2", "TMPDIR": str(temp)}
    pod = WorkerPod(env, 2, tmp_path / "worker.log")
    try:

        def is_live() -> bool:
            response = pod.live()
            return response is not None and response.status_code == 200

        wait_until(is_live, STARTUP_TIMEOUT, "both processes' job loops")
        text = httpx.get(f"{pod.url}/metrics").text
        heartbeat = "chatsvg_worker_heartbeat_timestamp_seconds"
        children = pids_of(text, heartbeat)
        assert len(children) == 2 and pod.process.pid not in children, children
        assert sample(text, "chatsvg_worker_jobs_in_flight") == 0.0  # one series: the pod's sum
        assert sample(text, "chatsvg_worker_delayed_reruns") == 0.0  # the same
        wait_until(
            lambda: sample(httpx.get(f"{pod.url}/metrics").text, "chatsvg_queue_depth") is not None,
            10,
            "the figures",
        )
        stuck, other = sorted(children)
        os.kill(stuck, signal.SIGSTOP)  # its job loop stops ticking (and everything else in it)
        try:
            failing = wait_until(
                lambda: (r := pod.live()) is not None and r.status_code == 503 and r, 6, "503"
            )
            assert str(stuck) in failing.json()["detail"]
            assert "has not ticked" in failing.json()["detail"]
        finally:
            os.kill(stuck, signal.SIGCONT)
        wait_until(is_live, 6, "recovered")
        os.kill(other, signal.SIGKILL)
        failing = wait_until(
            lambda: (r := pod.live()) is not None and r.status_code == 503 and r, 6, "503"
        )
        assert "exited" in failing.json()["detail"] and str(other) in failing.json()["detail"]
        wait_until(
            lambda: pids_of(httpx.get(f"{pod.url}/metrics").text, heartbeat) == {stuck},
            5,
            "the exited process's live gauges dropped",
        )
        [metrics_dir] = temp.glob("chatsvg-metrics-*")
        assert not (metrics_dir / f"gauge_liveall_{other}.db").exists()
        assert (metrics_dir / f"gauge_liveall_{stuck}.db").exists()
    finally:
        pod.stop()
    assert not list(temp.glob("chatsvg-metrics-*")), "removed on the way out"


async def test_the_heartbeat_reports_the_delayed_re_runs_waiting_in_the_process() -> None:
    """Queue depth counts what waits in Redis; what a worker holds until due is its own gauge,
    summed over a pod's processes (and by Prometheus over pods)."""
    waiting = [3]
    heartbeat = JobLoopHeartbeat(30.0, delayed=lambda: waiting[0])
    await heartbeat.beat()
    assert REGISTRY.get_sample_value("chatsvg_worker_delayed_reruns") == 3.0
    waiting[0] = 0
    await heartbeat.beat()
    assert REGISTRY.get_sample_value("chatsvg_worker_delayed_reruns") == 0.0
