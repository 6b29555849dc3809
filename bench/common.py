"""What every benchmark needs: the real stack on this machine, processes, samples and tables.

The stack is the production one: Postgres (a fresh `chatsvg_bench` database each run), Redis (a
dedicated DB number, flushed at start), moto's S3 server, the fake OpenAI server with a fixed
latency, `chatsvg serve` API processes and `chatsvg worker` processes, all as separate OS
processes on 127.0.0.1. Postgres and Redis must already be running (`make services`).

Every script prints its figures as a table and, last, one machine-readable line
``BENCH_RESULT {json}`` that `run_all.py` collects.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
for _path in (str(ROOT / "src"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import msgspec  # noqa: E402

try:
    import psutil
except ImportError:  # pragma: no cover - a clear message instead of a traceback
    raise SystemExit(
        "the benchmarks need psutil (and wrk, and py-spy for --profile): "
        ".venv/bin/pip install psutil py-spy && apt-get install -y wrk"
    ) from None
import redis  # noqa: E402
from tests.support.fake_openai import FakeOpenAIProcess, start_process  # noqa: E402
from tests.support.moto_server import RunningServer, free_port, start_moto_process  # noqa: E402
from tests.support.real_stack import AWS_ENV, WorkerProcess  # noqa: E402

from chatsvg.entrypoints.settings import Settings, load_settings  # noqa: E402

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DB_NAME", "chatsvg_bench")
DATABASE_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DB_NAME}"
ASYNCPG_URL = f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
SECRET = "bench-secret-" + "b" * 40
RESULT_PREFIX = "BENCH_RESULT "
PASSWORD = "correct horse battery"


class Interrupted(Exception):
    """SIGTERM/SIGINT: unwind so every `finally` stops the processes it started."""


def install_signal_handlers() -> None:
    def stop(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


# --- figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def fmt(value: float | int | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    print()
    print(title)
    print(line)
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print(line)
    for row in rows:
        cells = [
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("| " + " | ".join(cells) + " |")
    print(line, flush=True)


def emit_result(name: str, figures: dict[str, Any]) -> None:
    print(RESULT_PREFIX + json.dumps({"bench": name, **figures}, default=str), flush=True)


def machine_note() -> str:
    one, five, _ = os.getloadavg()
    return f"{psutil.cpu_count()} cores, load average {one:.2f} (1 min) {five:.2f} (5 min) at start"


# --- processes -------------------------------------------------------------------------------


class ProcessMeter:
    """CPU (% of one core) and RSS of one process, between `start()` and `stop()`."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self._cpu0 = 0.0
        self._t0 = 0.0
        self.cpu_percent = math.nan
        self.rss_max = 0
        self.threads_max = 0

    def _cpu(self) -> float:
        """The process and its live children: `CHATSVG_API_WORKERS` > 1 serves from children."""
        total = 0.0
        with contextlib.suppress(psutil.Error):
            for proc in [self.process, *self.process.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = proc.cpu_times()
                    total += times.user + times.system
        return total

    def start(self) -> None:
        self._cpu0, self._t0 = self._cpu(), time.monotonic()
        self.sample()

    def sample(self) -> int:
        with contextlib.suppress(psutil.Error):
            rss = int(self.process.memory_info().rss)
            self.rss_max = max(self.rss_max, rss)
            self.threads_max = max(self.threads_max, self.process.num_threads())
            return rss
        return 0

    def stop(self) -> float:
        self.sample()
        with contextlib.suppress(psutil.Error):
            elapsed = time.monotonic() - self._t0
            self.cpu_percent = 100 * (self._cpu() - self._cpu0) / elapsed if elapsed > 0 else 0.0
        return self.cpu_percent


class MachineMeter:
    """How busy the whole machine was, and how much of that was *not* this benchmark.

    "ours" is this process and its descendants (API, worker, moto, fake model, load generator,
    socket clients) plus every postgres and redis process (shared services: other users of them
    count as ours, which errs towards calling a run quiet). "others" is the rest: with 2 cores,
    anything much above 0% means the figures were taken on a shared, noisy machine.
    """

    def __init__(self) -> None:
        self._t0 = 0.0
        self._busy0 = 0.0
        self._ours0 = 0.0
        self.busy_percent = math.nan
        self.others_percent = math.nan

    @staticmethod
    def _busy() -> float:
        t = psutil.cpu_times()
        return float(
            t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)
        )

    @staticmethod
    def _ours() -> float:
        total = 0.0
        me = psutil.Process()
        tree = [me, *me.children(recursive=True)]
        seen = set()
        for proc in tree:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
                seen.add(proc.pid)
        for proc in psutil.process_iter(["name", "cpu_times"]):
            name = (proc.info.get("name") or "").lower()
            times = proc.info.get("cpu_times")
            if (
                proc.pid not in seen
                and times is not None
                and (name.startswith("postgres") or "redis" in name)
            ):
                total += times.user + times.system
        return total

    def start(self) -> None:
        self._t0, self._busy0, self._ours0 = time.monotonic(), self._busy(), self._ours()

    def stop(self) -> None:
        wall = time.monotonic() - self._t0
        if wall <= 0:
            return
        busy = self._busy() - self._busy0
        ours = self._ours() - self._ours0
        self.busy_percent = 100 * busy / wall
        self.others_percent = max(0.0, 100 * (busy - ours) / wall)

    def note(self) -> str:
        return (
            f"machine busy {self.busy_percent:.0f}% of {100 * (psutil.cpu_count() or 1)}%, "
            f"of which other work on the machine {self.others_percent:.0f}%"
        )


def cpu_by_group(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by our named processes, plus every postgres and redis process."""
    used: dict[str, float] = {}
    for name, pid in pids.items():
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            used[name] = times.user + times.system
    for proc in psutil.process_iter(["name", "cpu_times"]):
        pname = (proc.info.get("name") or "").lower()
        group = (
            "postgres" if pname.startswith("postgres") else "redis" if "redis" in pname else None
        )
        times = proc.info.get("cpu_times")
        if group and times is not None:
            used[group] = used.get(group, 0.0) + times.user + times.system
    return used


def cpu_share(
    before: dict[str, float], after: dict[str, float], seconds: float
) -> dict[str, float]:
    """% of one core per group over `seconds` (a machine has 100% per core)."""
    return {
        name: 100 * (after[name] - before.get(name, 0.0)) / seconds for name in after if seconds > 0
    }


def find_child(needle: str) -> int:
    """The pid of our descendant process whose command line contains `needle` (0 if none)."""
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if needle in " ".join(child.cmdline()):
                return int(child.pid)
    return 0


def stop_process(process: subprocess.Popen[Any], timeout: float = 20) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class ApiProcess:
    """`chatsvg serve --port P` (uvicorn, uvloop + httptools by default), ready once /health/ready says so."""

    def __init__(self, env: dict[str, str], log: Path, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(log, "ab") as stderr:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "chatsvg.entrypoints.cli",
                    "serve",
                    "--port",
                    str(self.port),
                ],
                cwd=ROOT,
                env={**env, "CHATSVG_PUBLIC_URL": self.url},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        wait_ready(f"{self.url}/health/ready", self.process, log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        stop_process(self.process)


class BareProcess:
    """`bench/bare_app.py`: a one-route Litestar app under the same uvicorn settings as the API."""

    def __init__(self, log: Path, database_url: str | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        if database_url:  # also serve POST /bare/select: one SELECT per request
            env["DATABASE_URL"] = database_url
        with open(log, "ab") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, str(BENCH / "bare_app.py"), "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        wait_ready(f"{self.url}/health/ready", self.process, log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        stop_process(self.process)


def wait_ready(url: str, process: subprocess.Popen[Any], log: Path, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    stop_process(process)
    raise RuntimeError(f"{url} did not become ready; see {log}")


# --- the stack -------------------------------------------------------------------------------


async def _recreate_database() -> None:
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        await admin.close()


async def _drop_database() -> None:
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    finally:
        await admin.close()


async def _ensure_bucket(settings: Settings) -> None:
    from chatsvg.adapters.storage.s3 import S3ObjectStorage

    assert settings.s3_bucket is not None
    for name, value in AWS_ENV.items():
        os.environ.setdefault(name, value)
    storage = S3ObjectStorage(
        settings.s3_bucket, endpoint_url=settings.s3_endpoint_url, create_bucket=True
    )
    await storage.ensure_bucket()


def flush_redis() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


@dataclass
class Stack:
    """Postgres + Redis (already running), moto and the fake OpenAI server (started here)."""

    work: Path
    model_latency: float
    extra_env: dict[str, str] = field(default_factory=dict)
    moto: RunningServer | None = None
    fake: FakeOpenAIProcess | None = None
    env: dict[str, str] = field(default_factory=dict)
    settings: Settings | None = None
    scratch: dict[str, Any] = field(default_factory=dict)  # what a bench keeps between phases
    _started: list[Any] = field(default_factory=list)

    def start(self) -> Stack:
        asyncio.run(_recreate_database())
        flush_redis()
        self.moto = start_moto_process(log_path=self.work / "moto.log", env=AWS_ENV)
        self.fake = start_process(latency=self.model_latency)
        values = {
            "CHATSVG_MODE": "production",
            "CHATSVG_SECRET_KEY": SECRET,
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "S3_BUCKET": f"chatsvg-bench-{uuid.uuid4().hex[:8]}",
            "S3_ENDPOINT_URL": self.moto.endpoint_url,
            "CHATSVG_S3_CREATE_BUCKET": "true",
            "OPENAI_API_KEY": "sk-bench",
            "OPENAI_BASE_URL": self.fake.base_url,
            "CHATSVG_COOKIE_SECURE": "false",
            "CHATSVG_PLAYGROUND": "false",
            "CHATSVG_RATE_GENERATE": "1000000/60",
            "CHATSVG_RATE_REGISTER": "1000000/60",
            "CHATSVG_START_CREDITS": "10000000",
            "CHATSVG_PLAN_QUOTAS": "false",  # a bench user submits more than a plan's window allows
            "CHATSVG_ACCESS_TOKEN_SECONDS": "3600",
            "CHATSVG_ARGON2_TIME_COST": "1",
            "CHATSVG_ARGON2_MEMORY_KIB": "1024",
            # A benchmark run is shorter than these: no job is handed back twice by the reaper.
            "CHATSVG_STALE_QUEUED_SECONDS": "3600",
            "CHATSVG_METRICS_PORT": "0",  # several workers on one machine: no fixed metrics port
            "CHATSVG_SHUTDOWN_GRACE_SECONDS": "3",  # a stopped bench worker need not finish its jobs
            "CHATSVG_MAIL_BACKEND": "none",  # production mode: no SMTP server, mail off on purpose
            **self.extra_env,
        }
        env = {
            **os.environ,
            **AWS_ENV,
            **values,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        }
        env.pop("CHATSVG_PUBLIC_URL", None)
        self.env = env
        self.settings = load_settings(env)
        migrate = subprocess.run(
            [sys.executable, "-m", "chatsvg.entrypoints.cli", "migrate"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if migrate.returncode != 0:
            raise RuntimeError(f"chatsvg migrate failed: {migrate.stderr[-2000:]}")
        # The API creates the bucket at start-up; a worker never does, and some benches run none.
        asyncio.run(_ensure_bucket(self.settings))
        return self

    def api(self, name: str = "api") -> ApiProcess:
        api = ApiProcess(self.env, self.work / f"{name}.log")
        self._started.append(api)
        return api

    def worker(self, threads: int, name: str = "worker", **overrides: Any) -> WorkerProcess:
        """`chatsvg worker --threads T`; `overrides` replace settings fields for this one."""
        assert self.settings is not None
        settings = (
            msgspec.structs.replace(self.settings, **overrides) if overrides else self.settings
        )
        worker = WorkerProcess(settings, threads=threads, log_path=self.work / f"{name}.log")
        self._started.append(worker)
        return worker

    def bare(self, *, select: bool = False) -> BareProcess:
        """The bare app; with `select`, it also serves POST /bare/select (one SELECT each)."""
        bare = BareProcess(self.work / "bare.log", DATABASE_URL if select else None)
        self._started.append(bare)
        return bare

    async def set_queued_jobs_aside(self) -> int:
        """End the jobs still QUEUED (FAILED, never charged), for a bench that runs no worker and
        wants its next round to start from an empty queue. Returns how many."""
        connection = await asyncpg.connect(ASYNCPG_URL)
        try:
            done = await connection.execute(
                "UPDATE generation_jobs SET status = 'FAILED', error_code = 'BENCH_SET_ASIDE', "
                "updated_at = now(), finished_at = now() WHERE status = 'QUEUED'"
            )
        finally:
            await connection.close()
        return int(done.rsplit(" ", 1)[-1])

    def stop(self, *, drop_database: bool = True) -> None:
        for process in reversed(self._started):
            with contextlib.suppress(Exception):
                process.stop()
        self._started.clear()
        if self.fake is not None:
            with contextlib.suppress(Exception):
                self.fake.stop()
            self.fake = None
        if self.moto is not None:
            with contextlib.suppress(Exception):
                self.moto.stop()
            self.moto = None
        with contextlib.suppress(Exception):
            flush_redis()
        if drop_database:
            with contextlib.suppress(Exception):
                asyncio.run(_drop_database())


@contextlib.contextmanager
def running_stack(
    name: str, *, model_latency: float, extra_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    install_signal_handlers()
    work = Path(tempfile.mkdtemp(prefix=f"chatsvg-bench-{name}-"))
    stack = Stack(work, model_latency, dict(extra_env or {}))
    try:
        yield stack.start()
    finally:
        stack.stop(drop_database=not os.environ.get("BENCH_KEEP_DB"))
    print(f"(logs in {work})")


# --- users -----------------------------------------------------------------------------------


async def register_users(api_url: str, count: int, *, prefix: str = "bench") -> list[str]:
    """Register `count` users through the API the way the web client does; their access tokens."""
    limit = asyncio.Semaphore(8)

    async def one(i: int) -> str:
        async with limit, httpx.AsyncClient(base_url=api_url, timeout=30) as http:
            csrf = (await http.get("/api/csrf")).json()["csrfToken"]
            response = await http.post(
                "/api/auth/register",
                json={
                    "email": f"{prefix}{i}-{uuid.uuid4().hex[:6]}@example.com",
                    "password": PASSWORD,
                    "name": f"Bench {i}",
                    "agreedToTerms": True,
                },
                headers={"X-CSRF-Token": csrf},
            )
            if response.status_code != 201:
                raise RuntimeError(f"register failed: {response.status_code} {response.text}")
            token = http.cookies.get("token")
            assert token, "register sets the access-token cookie"
            return str(token)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


# --- raw HTTP requests for the load generators ------------------------------------------------


def open_loop_spec(
    url: str,
    tokens: list[str] | list[str | None],
    prompt: str,
    *,
    rate: float,
    duration: float,
    warmup: float,
    max_connections: int = 128,
) -> dict[str, Any]:
    """What bench/loadgen.py needs to POST generate-svg at `url`: one request per token, in turn
    (`prompt` may contain `{i}`, the token's index)."""
    host = url.removeprefix("http://")
    hostname, port = host.split(":")
    return {
        "host": hostname,
        "port": int(port),
        "requests": [
            generate_request(host, token, prompt.format(i=i)) for i, token in enumerate(tokens)
        ],
        "rate": rate,
        "duration": duration,
        "warmup": warmup,
        "max_connections": max_connections,
    }


def generate_request(
    host: str, token: str | None, prompt: str, path: str = "/api/svg/generate-svg"
) -> str:
    """One complete HTTP/1.1 POST, as the open-loop generator sends it (keep-alive)."""
    body = json.dumps({"prompt": prompt, "style": "flat"})
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body.encode())}",
        "User-Agent: chatsvg-bench",
    ]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


def run_loadgen(
    spec: dict[str, Any], work: Path, name: str, *, timeout: float = 120
) -> dict[str, Any]:
    """Run `bench/loadgen.py` (open loop, its own process) and return its JSON report."""
    spec_path = work / f"{name}.json"
    spec_path.write_text(json.dumps(spec))
    done = subprocess.run(
        [sys.executable, str(BENCH / "loadgen.py"), str(spec_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"loadgen failed: {done.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


async def db_fetch(query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(ASYNCPG_URL)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


def ms(seconds: float) -> float:
    return seconds * 1000.0


# --- py-spy profiles ---------------------------------------------------------------------------------

# Tier 1: a library anywhere on the stack claims the sample (first match in this order wins),
# so time spent inside the database layer counts as database even when Litestar called it.
LIBRARIES: list[tuple[str, tuple[str, ...]]] = [
    (
        "logging (stdlib logging + structlog)",
        ("logging/__init__.py", "structlog/", "entrypoints/logs.py"),
    ),
    ("S3 put (boto3/botocore)", ("botocore/", "boto3/", "s3transfer/", "urllib3/")),
    (
        "SVG sanitizer",
        (
            *(
                f"svg_{name}.py"
                for name in ("sanitizer", "rules", "prolog", "attributes", "css", "writer")
            ),
            "tinycss2/",
            "defusedxml/",
            "xml/etree",
            "xml/dom",
        ),
    ),
    ("model call (openai client)", ("openai/",)),
    ("HTTP client (aiohttp/httpx)", ("aiohttp/", "httpx", "httpcore/", "anyio/")),
    ("database (sqlalchemy + asyncpg)", ("sqlalchemy/", "asyncpg/")),
    ("realtime emit (python-socketio)", ("socketio/", "engineio/")),
    ("rate limiter (limits)", ("limits/",)),
    ("dramatiq broker (enqueue, fetch, ack)", ("dramatiq/brokers/", "dramatiq_queue.py")),
    ("redis client", ("redis/",)),
    ("JWT", ("jwt/",)),
    ("argon2", ("argon2/",)),
    ("prometheus metrics", ("prometheus_client/",)),
]
# Tier 2: otherwise the innermost of these frames decides.
GENERIC: list[tuple[str, tuple[str, ...]]] = [
    ("litestar (routing, DI, responses)", ("litestar/",)),
    ("msgspec", ("msgspec/",)),
    ("chatsvg code", ("chatsvg/",)),
    ("uvicorn + httptools", ("uvicorn/", "httptools")),
    ("dramatiq worker machinery", ("dramatiq/",)),
    ("threads, queues, futures", ("threading.py", "concurrent/futures/", "queue.py")),
    ("asyncio / uvloop event loop", ("asyncio/", "uvloop/", "runners.py")),
]


def _category(stack: list[str]) -> str:
    if not stack:
        return "native code, no Python frame (GC, C extensions)"
    for name, needles in LIBRARIES:
        if any(n in frame for frame in stack for n in needles):
            return name
    for frame in reversed(stack):
        for name, needles in GENERIC:
            if any(n in frame for n in needles):
                return name
    return "other Python"


# Steps of the two hot paths, by functions on the stack (inclusive: a step contains its callees;
# "a;b" needs both on the stack).
STEPS: list[tuple[str, str]] = [
    ("API: authenticate (JWT, session cached)", "provide_claims ("),
    ("API: rate limit (limits on Redis)", "LimitsRateLimiter.hit ("),
    ("API: GenerationService.submit", "GenerationService.submit ("),
    ("API:   credit check (balance + reserved)", "balance_and_reserved ("),
    ("API:   insert the job", "SqlJobs.add ("),
    ("API:   enqueue (Dramatiq script on redis.asyncio)", "DramatiqTaskQueue.enqueue ("),
    ("API: response body (job_json)", "job_json ("),
    ("worker: JobProcessor.process (an attempt, without its batches)", "JobProcessor.process ("),
    ("worker:   model call (openai client)", "OpenAiSvgGenerator.generate ("),
    ("worker:     httpx connection-pool bookkeeping", "_assign_requests_to_connections ("),
    ("worker:   sanitize", "SvgSanitizer.sanitize ("),
    ("worker:   S3 put (awaiting the executor)", "JobProcessor._storage_put ("),
    ("worker:   progress updates (70, 90)", "JobProcessor._progress ("),
    ("worker: claim batches (tasks of their own)", "JobProcessor._claim_and_announce ("),
    ("worker: result batches (tasks of their own)", "JobProcessor._record_successes ("),
    ("any: realtime push (python-socketio emit)", "SocketIoRealtime._emit ("),
    ("any: unit of work open (pool checkout + BEGIN)", "SqlUnitOfWork.__aenter__ ("),
    ("any: unit of work COMMIT", "SqlUnitOfWork.commit ("),
    ("any: SQL execution (SQLAlchemy + asyncpg)", "Connection._execute_context ("),
    ("any: logging", "Logger._log ("),
]


def _thread_kind(thread: str, stack_text: str) -> str:
    if "chatsvg-jobs" in thread or "EventLoopThread.run (" in stack_text:
        return "event loop thread (worker)"
    if "MainThread" in thread and "uvicorn/" in stack_text:
        return "event loop thread (API)"
    if "WorkerThread." in stack_text:
        return "dramatiq worker threads"
    if "ConsumerThread" in stack_text:
        return "dramatiq consumer thread"
    name = thread.split(": ", 1)[-1]
    return re.sub(r"[-_ ]?\d+(\s*\(.*\))?$", "", name) or name


def summarise_profile(raw: Path) -> dict[str, Any]:
    """Categories over all samples; categories and steps over the event-loop thread's samples."""
    per_category: collections.Counter[str] = collections.Counter()
    loop_category: collections.Counter[str] = collections.Counter()
    loop_steps: collections.Counter[str] = collections.Counter()
    per_leaf: collections.Counter[str] = collections.Counter()
    per_thread: collections.Counter[str] = collections.Counter()
    total = loop_total = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack_text.split(";")
        thread, frames = frames[0], frames[1:]
        total += count
        kind = _thread_kind(thread, stack_text)
        per_thread[kind] += count
        category = _category(frames)
        per_category[category] += count
        if kind.startswith("event loop thread"):
            loop_total += count
            loop_category[category] += count
            for label, needle in STEPS:
                if all(part in stack_text for part in needle.split(";")):
                    loop_steps[label] += count
        if frames:
            per_leaf[re.sub(r":\d+\)$", ")", frames[-1])] += count

    def share(
        counter: collections.Counter[str], of: int, top: int | None = None
    ) -> dict[str, float]:
        return {k: 100 * v / of for k, v in counter.most_common(top)} if of else {}

    return {
        "samples": total,
        "loop_samples": loop_total,
        "categories": share(per_category, total),
        "loop_categories": share(loop_category, loop_total),
        "loop_steps": {
            label: 100 * loop_steps[label] / loop_total for label, _ in STEPS if loop_steps[label]
        }
        if loop_total
        else {},
        "leaves": share(per_leaf, total, 15),
        "threads": share(per_thread, total),
    }


class SpyRecorder:
    """`py-spy record` (on-CPU samples, all threads, raw collapsed stacks) on one process.

    native=True also unwinds C frames (uvloop, asyncpg's Cython protocol, libc system calls), so
    time spent outside Python is attributed too; it pauses the process for every sample, so it is
    only used in a separate profiling phase, never while figures are measured."""

    def __init__(self, pid: int, seconds: float, out: Path, *, native: bool = False) -> None:
        self.native = native
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(spy).exists():
            raise SystemExit("profiling needs py-spy: .venv/bin/pip install py-spy")
        self.out = out
        self.process = subprocess.Popen(
            [
                spy,
                "record",
                "-p",
                str(pid),
                "-d",
                str(max(1, int(seconds))),
                "-r",
                "100" if native else "200",
                *(["--native"] if native else ["--threads", "--nonblocking"]),
                "-f",
                "raw",
                "-o",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def finish(self, timeout: float = 60) -> dict[str, Any]:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(10)
        if not self.out.exists():
            summary: dict[str, Any] = {"samples": 0}
        elif self.native:
            summary = summarise_native(self.out)
        else:
            summary = summarise_profile(self.out)
        summary["raw_file"] = str(self.out)
        return summary


_SYSCALL_HINTS = ("libc.so", "libpthread")
_NATIVE_LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("asyncpg wire protocol (Cython)", ("protocol.c", "pgproto.c", "asyncpg/")),
    ("uvloop (C)", ("loop.c", "core.c", "uv__", "uvloop/")),
    ("httptools parser (C)", ("httptools", "llhttp", "parser.c")),
    (
        "CPython runtime (C)",
        ("object.h", "libpython", "_asynciomodule.c", "ceval", "Objects/", "Python/"),
    ),
]


def summarise_native(raw: Path) -> dict[str, Any]:
    """A `py-spy --native` profile of an API process: the event loop thread's busy samples (stacks
    through asyncio's Runner.run, minus the loop's idle epoll wait), by layer: the innermost Python
    module when Python code was running, else the native layer (system calls, asyncpg's Cython
    protocol, uvloop, the interpreter itself)."""
    layers: collections.Counter[str] = collections.Counter()
    steps: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not count_text.isdigit() or "Runner.run (" not in stack_text:
            continue
        frames = stack_text.split(";")
        leaf = frames[-1]
        if "epoll_wait" in leaf or "epoll_pwait" in leaf:
            continue  # the loop waiting for I/O: idle
        count = int(count_text)
        total += count
        for label, needle in STEPS:
            if all(part in stack_text for part in needle.split(";")):
                steps[label] += count
        if ".py:" in leaf:
            module = re.search(r"\(([^:]+)", leaf)
            name = module.group(1) if module else leaf
            top = name.split("/")[0] if "/" in name else name.removesuffix(".py")
            layers[f"Python: {top}"] += count
            continue
        for label, needles in _NATIVE_LAYERS:
            if any(n in leaf for n in needles):
                layers[f"native: {label}"] += count
                break
        else:
            layers[
                "native: system calls and libc"
                if any(h in leaf for h in _SYSCALL_HINTS)
                else "native: other"
            ] += count
    return {
        "samples": total,
        "loop_samples": total,
        "loop_categories": {k: 100 * v / total for k, v in layers.most_common()} if total else {},
        "loop_steps": {label: 100 * steps[label] / total for label, _ in STEPS if steps[label]}
        if total
        else {},
        "threads": {},
    }


def print_profile(title: str, profile: dict[str, Any]) -> None:
    """The event-loop thread's profile as two tables: by library, and by step of the use case."""
    print_table(
        f"{title}: event-loop thread by library/layer ({profile.get('loop_samples', 0)} py-spy samples)",
        ["category", "% of loop samples"],
        [[k, fmt(v, 1)] for k, v in profile.get("loop_categories", {}).items() if v >= 0.5],
    )
    print_table(
        f"{title}: event-loop thread by step (inclusive)",
        ["step", "% of loop samples"],
        [[k, fmt(v, 1)] for k, v in profile.get("loop_steps", {}).items()],
    )
    if profile.get("threads"):
        print_table(
            f"{title}: all threads",
            ["thread", "% of all samples"],
            [[k, fmt(v, 1)] for k, v in profile.get("threads", {}).items() if v >= 0.5],
        )
    print(f"raw profile (collapsed stacks): {profile.get('raw_file')}")


def setting_overrides(settings: Any, items: list[str]) -> dict[str, Any]:
    """`--set FIELD=VALUE` arguments as typed overrides of the stack's `Settings`."""
    overrides: dict[str, Any] = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in settings.__struct_fields__:
            raise SystemExit(f"unknown setting {name!r}")
        current = getattr(settings, name)
        overrides[name] = (
            value.lower() in ("1", "true", "yes")
            if isinstance(current, bool)
            else type(current)(value)
        )
    return overrides
