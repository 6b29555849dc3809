"""Metrics (Prometheus) and request correlation for the API and the worker.

Per-process figures (request latency, model latency and errors, jobs in flight) are kept in
process. When a pod runs several processes (CHATSVG_API_WORKERS > 1, `chatsvg worker --processes
N`) the parent points them at one fresh directory (PROMETHEUS_MULTIPROC_DIR, prometheus-client's
multiprocess mode) and every scrape adds up the whole pod's files.

The database-wide figures (jobs by status, credits by reason, queue depth) are computed by one
process of the whole deployment per interval (`ClusterFigures`: a Redis lock, the result stored in
Redis), not at scrape time; every scrape of every process reports the same last figures, so
Prometheus should take one value of them (`max`), not a sum. Without Redis (local mode) the one
process computes them itself.
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import redis
import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import func, select

from chatsvg.adapters.redis_clients import redis_client
from chatsvg.adapters.sql import tables as t
from chatsvg.application.ports import GenerationFault, GenerationRequest, SvgGenerator

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

REGISTRY = CollectorRegistry(auto_describe=True)
access_log = logging.getLogger("chatsvg.access")
log = logging.getLogger("chatsvg.metrics")

HTTP_LATENCY = Histogram(
    "chatsvg_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
FIGURES_COMPUTED = Counter(
    "chatsvg_figures_computed",
    "Times this process computed the database-wide figures (jobs, credits, queue depth)",
    registry=REGISTRY,
)
MODEL_LATENCY = Histogram(
    "chatsvg_model_request_duration_seconds",
    "Model call latency",
    ["model", "outcome"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
    registry=REGISTRY,
)
MODEL_ERRORS = Counter(
    "chatsvg_model_errors_total",
    "Model call failures by error code",
    ["model", "code"],
    registry=REGISTRY,
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContext:
    """ASGI middleware: a request id (taken from X-Request-ID when sane), bound to every log line of
    the request and echoed back; and the request's latency by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or (
                "/socket.io/" if scope["path"].startswith("/socket.io") else "unmatched"
            )
            HTTP_LATENCY.labels(scope["method"], route, str(status)).observe(elapsed)
            if route != "/socket.io/":
                access_log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            structlog.contextvars.unbind_contextvars("request_id")


JOB_STATUSES = ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED")
LEDGER_REASONS = (
    "SIGNUP_GRANT",
    "GENERATION_CHARGE",
    "GENERATION_REFUND",
    "ADMIN_GRANT",
    "ADMIN_REVOKE",
)


@dataclass(frozen=True)
class ClusterSnapshot:
    """The database-wide figures at one moment (wall-clock `computed_at`)."""

    jobs: Mapping[str, int]
    credits: Mapping[str, int]
    queue_depth: int
    computed_at: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(
            {
                "jobs": dict(self.jobs),
                "credits": dict(self.credits),
                "queue_depth": self.queue_depth,
                "computed_at": self.computed_at,
            }
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> ClusterSnapshot:
        data = json.loads(raw)
        return cls(
            jobs={str(k): int(v) for k, v in data["jobs"].items()},
            credits={str(k): int(v) for k, v in data["credits"].items()},
            queue_depth=int(data["queue_depth"]),
            computed_at=float(data["computed_at"]),
        )


async def compute_snapshot(database: Any, queue: Any) -> ClusterSnapshot:
    """Two GROUP BY queries and the queue's depth: what `ClusterFigures` runs once per interval."""
    async with database.engine.connect() as conn:
        jobs = dict(
            (
                await conn.execute(
                    select(t.generation_jobs.c.status, func.count()).group_by(
                        t.generation_jobs.c.status
                    )
                )
            ).all()
        )
        credits = dict(
            (
                await conn.execute(
                    select(t.credit_ledger.c.reason, func.sum(t.credit_ledger.c.delta)).group_by(
                        t.credit_ledger.c.reason
                    )
                )
            ).all()
        )
    depth = getattr(queue, "depth", 0)  # a method (Dramatiq on Redis) or a property (in process)
    depth = await depth() if callable(depth) else depth
    return ClusterSnapshot(
        jobs={status: int(jobs.get(status, 0)) for status in JOB_STATUSES},
        credits={reason: abs(int(credits.get(reason) or 0)) for reason in LEDGER_REASONS},
        queue_depth=int(depth),
    )


class ClusterFigures:
    """Computes the database-wide figures once per interval for the whole deployment, and hands
    every scrape the last ones.

    With Redis, every process (API or worker) tries `SET leader NX PX interval` once per interval;
    the one that gets it runs the queries and stores the result in Redis for 4 intervals, and every
    scrape anywhere reads it with one GET. Figures nobody refreshed for that long are dropped (the
    series disappear) rather than reported stale. Without Redis the process computes them itself.
    """

    def __init__(
        self, *, redis_url: str | None, interval: float, prefix: str = "chatsvg:metrics"
    ) -> None:
        self.interval = interval
        self._redis_url = redis_url
        self._leader_key = f"{prefix}:leader"
        self._figures_key = f"{prefix}:figures"
        self._keep_ms = max(int(interval * 4000), 1000)
        self._token = f"{socket.gethostname()}:{os.getpid()}"
        self._local: ClusterSnapshot | None = None
        self._async: Any = None
        self._sync: redis.Redis | None = None
        self._sync_lock = threading.Lock()

    def _client(self) -> Any:
        if self._async is None:
            assert self._redis_url
            self._async = redis_client(self._redis_url, max_connections=2, socket_timeout=5)
        return self._async

    async def refresh(self, database: Any, queue: Any) -> bool:
        """One interval's turn: True if this process computed the figures. Every process runs it
        once per interval (entrypoints/tasks.py `schedule_figures`)."""
        if self._redis_url is None:
            self._local = await compute_snapshot(database, queue)
            FIGURES_COMPUTED.inc()
            return True
        client = self._client()
        if not await client.set(
            self._leader_key, self._token, nx=True, px=max(int(self.interval * 1000), 1)
        ):
            return False
        snapshot = await compute_snapshot(database, queue)
        FIGURES_COMPUTED.inc()
        await client.set(self._figures_key, snapshot.to_json(), px=self._keep_ms)
        return True

    def _fresh(self, snapshot: ClusterSnapshot | None) -> ClusterSnapshot | None:
        if snapshot is None or time.time() - snapshot.computed_at > self._keep_ms / 1000:
            return None
        return snapshot

    async def latest(self) -> ClusterSnapshot | None:
        """The last figures (one Redis GET), or None when there are none fresh enough."""
        if self._redis_url is None:
            return self._fresh(self._local)
        try:
            raw = await self._client().get(self._figures_key)
        except Exception:
            log.warning("metrics: database-wide figures unavailable", exc_info=True)
            return None
        return self._fresh(ClusterSnapshot.from_json(raw)) if raw else None

    def latest_sync(self) -> ClusterSnapshot | None:
        """`latest` for a thread without an event loop (the worker's metrics server)."""
        if self._redis_url is None:
            return self._fresh(self._local)
        try:
            with self._sync_lock:
                if self._sync is None:
                    self._sync = redis.Redis.from_url(
                        self._redis_url, socket_timeout=2, socket_connect_timeout=2
                    )
                raw = self._sync.get(self._figures_key)
        except Exception:
            log.warning("metrics: database-wide figures unavailable", exc_info=True)
            return None
        return self._fresh(ClusterSnapshot.from_json(raw)) if raw else None

    async def close(self) -> None:
        if self._async is not None:
            await self._async.aclose()
            self._async = None
        if self._sync is not None:
            self._sync.close()
            self._sync = None


class _SnapshotCollector:
    """The database-wide figures as gauges; no samples at all when there are no fresh figures
    (an absent series, not a false zero)."""

    def __init__(self, snapshot: ClusterSnapshot | None) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "chatsvg_jobs", "Generation jobs by status (from the database)", labels=["status"]
        )
        credits = GaugeMetricFamily(
            "chatsvg_credits_total",
            "Credits moved by ledger reason (from the database)",
            labels=["reason"],
        )
        depth = GaugeMetricFamily(
            "chatsvg_queue_depth", "Messages waiting in the generation queue", labels=[]
        )
        snapshot = self._snapshot
        if snapshot is not None:
            for status, count in snapshot.jobs.items():
                jobs.add_metric([status], count)
            for reason, amount in snapshot.credits.items():
                credits.add_metric([reason], amount)
            depth.add_metric([], snapshot.queue_depth)
        yield from (jobs, credits, depth)


class _Together:
    def __init__(self, sources: Iterable[Any]) -> None:
        self._sources = list(sources)

    def collect(self) -> Iterator[Metric]:
        for source in self._sources:
            yield from source.collect()


MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The pod's shared metrics directory when this process is one of several, else None."""
    return os.environ.get(MULTIPROCESS_ENV) or None


def prepare_multiprocess_dir() -> str:
    """In a parent about to start several metric-recording processes: a fresh, empty directory
    (under TMPDIR, the pod's /tmp) in the environment they inherit. A directory of its own each
    time, so nothing a previous run (a restarted container) left is counted again; removed by
    `remove_multiprocess_dir` on the way out."""
    path = tempfile.mkdtemp(prefix="chatsvg-metrics-")
    os.environ[MULTIPROCESS_ENV] = path
    return path


def remove_multiprocess_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def process_exited(pid: int) -> None:
    """Drop an exited process's live gauges (its counters and histograms still count)."""
    path = multiprocess_dir()
    if path:
        mark_process_dead(pid, path)  # type: ignore[no-untyped-call]


def pod_metrics() -> Any:
    """What this process's scrape exports besides the database-wide figures: the whole pod's
    files in multiprocess mode, else this process's own registry."""
    path = multiprocess_dir()
    if path is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    return registry


def render_metrics(snapshot: ClusterSnapshot | None = None) -> tuple[bytes, str]:
    body = generate_latest(_Together([pod_metrics(), _SnapshotCollector(snapshot)]))
    return body, CONTENT_TYPE_LATEST


class MetricsServer:
    """The worker's HTTP port: /metrics, and /health/live answering 503 while `live()` reports a
    problem. Its own threads, so a stuck job loop cannot stop it from saying so."""

    def __init__(
        self,
        port: int,
        *,
        figures: Callable[[], ClusterSnapshot | None],
        live: Callable[[], str | None],
        host: str = "0.0.0.0",  # noqa: S104 - the pod's metrics port, not routed by the Ingress
    ) -> None:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    body, content_type = render_metrics(outer.figures())
                    self._answer(200, body, content_type)
                elif path == "/health/live":
                    problem = outer.live()
                    payload = {"status": "ok"} if problem is None else {"status": "failing"}
                    if problem is not None:
                        payload["detail"] = problem
                    self._answer(
                        200 if problem is None else 503,
                        json.dumps(payload).encode(),
                        "application/json",
                    )
                else:
                    self._answer(404, b"not found\n", "text/plain")

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.figures = figures
        self.live = live
        self._server = http.server.ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.5,), name="chatsvg-metrics", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class InstrumentedGenerator:
    """Times every model call and counts its failures by stable code."""

    def __init__(self, inner: SvgGenerator) -> None:
        self._inner = inner

    async def generate(self, request: GenerationRequest) -> str:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await self._inner.generate(request)
        except GenerationFault as fault:
            outcome = "error"
            MODEL_ERRORS.labels(request.model, fault.code).inc()
            raise
        except Exception:
            outcome = "error"
            MODEL_ERRORS.labels(request.model, "GENERATION_FAILED").inc()
            raise
        finally:
            MODEL_LATENCY.labels(request.model, outcome).observe(time.perf_counter() - started)
