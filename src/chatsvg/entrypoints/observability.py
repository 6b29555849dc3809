"""Metrics (Prometheus) and request correlation for the API and the worker.

Counts that must agree across processes (jobs by status, credits charged and refunded, queue depth)
are read from the database and the queue at scrape time, so any API replica reports the truth.
Per-process figures (request latency, model latency and errors) are kept in process.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from chatsvg.adapters.sql import tables as t
from chatsvg.application.ports import GenerationFault, GenerationRequest, SvgGenerator

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

REGISTRY = CollectorRegistry(auto_describe=True)
access_log = logging.getLogger("chatsvg.access")

HTTP_LATENCY = Histogram(
    "chatsvg_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
JOBS = Gauge(
    "chatsvg_jobs", "Generation jobs by status (from the database)", ["status"], registry=REGISTRY
)
CREDITS = Gauge(
    "chatsvg_credits_total",
    "Credits moved by ledger reason (from the database)",
    ["reason"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "chatsvg_queue_depth", "Messages waiting in the generation queue", registry=REGISTRY
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


async def refresh_gauges(database: Any, queue: Any) -> None:
    """Read the cross-process figures just before a scrape."""
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
    for status in ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED"):
        JOBS.labels(status).set(jobs.get(status, 0))
    for reason in (
        "SIGNUP_GRANT",
        "GENERATION_CHARGE",
        "GENERATION_REFUND",
        "ADMIN_GRANT",
        "ADMIN_REVOKE",
    ):
        CREDITS.labels(reason).set(abs(int(credits.get(reason) or 0)))
    depth = getattr(queue, "depth", None)
    if depth is not None:
        value = await depth() if callable(depth) else depth
        QUEUE_DEPTH.set(value)


def render_metrics() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


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
