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
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from chatsvg.application.ports import (
    GenerationFault,
    GenerationRequest,
    ModelAnswer,
    SvgGenerator,
)
from chatsvg.entrypoints.cluster_figures import (
    JOB_STATUSES,
    LEDGER_REASONS,
    ClusterFigures,
    ClusterSnapshot,
    _SnapshotCollector,
    compute_snapshot,
)
from chatsvg.entrypoints.metric_definitions import (
    FIGURES_COMPUTED,
    HTTP_LATENCY,
    MODEL_ERRORS,
    MODEL_LATENCY,
    REGISTRY,
)
from chatsvg.entrypoints.request_context import ASGIApp, RequestContext, Scope

# The metric definitions, the request middleware and the database-wide figures live in their own
# modules (metric_definitions, request_context, cluster_figures); re-exported for existing importers.
__all__ = [
    "FIGURES_COMPUTED",
    "HTTP_LATENCY",
    "JOB_STATUSES",
    "LEDGER_REASONS",
    "MODEL_ERRORS",
    "MODEL_LATENCY",
    "MULTIPROCESS_ENV",
    "REGISTRY",
    "ASGIApp",
    "ClusterFigures",
    "ClusterSnapshot",
    "InstrumentedGenerator",
    "MetricsServer",
    "RequestContext",
    "Scope",
    "compute_snapshot",
    "multiprocess_dir",
    "pod_metrics",
    "prepare_multiprocess_dir",
    "process_exited",
    "remove_multiprocess_dir",
    "render_metrics",
]


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

    async def generate(self, request: GenerationRequest) -> ModelAnswer:
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
