"""The admin page's metrics: the database's aggregates (AdminFiguresReader), the real queue's
depth, shaped as the contract says and reused for a few seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chatsvg.application.admin.ports import AdminUnitOfWorkFactory
from chatsvg.application.ports import Clock
from chatsvg.application.ports.admin import AdminFigures

ACTIVITY_WINDOW = timedelta(days=30)
TOP_GENERATORS = 10


def percent(part: int | float, whole: int | float) -> str:
    return f"{(100 * part / whole) if whole else 0:.2f}%"


def dollars(amount: float, places: int) -> str:
    return f"${amount:.{places}f}"


def shape(figures: AdminFigures, queue_depth: int) -> dict[str, Any]:
    """The contract's JSON: every number present, averages rounded to whole numbers."""
    ai_jobs = figures.ai_jobs
    by_status = figures.jobs_by_status
    succeeded, failed = by_status.get("SUCCEEDED", 0), by_status.get("FAILED", 0)

    def average(total: int | float) -> int:
        return round(total / ai_jobs) if ai_jobs else 0

    return {
        "ai": {
            "totalJobs": ai_jobs,
            "avgPromptTokens": average(figures.prompt_tokens),
            "avgCompletionTokens": average(figures.completion_tokens),
            "totalTokens": figures.prompt_tokens + figures.completion_tokens,
            "avgLatencyMs": average(figures.latency_ms_total),
            "p95LatencyMs": round(figures.p95_latency_ms),
            "repairRate": percent(figures.repaired_jobs, ai_jobs),
            "totalCostUSD": dollars(figures.cost_usd, 2),
            "avgCostPerJobUSD": dollars(figures.cost_usd / ai_jobs if ai_jobs else 0.0, 4),
        },
        "jobs": {
            "total": sum(by_status.values()),
            "succeeded": succeeded,
            "failed": failed,
            "queued": by_status.get("QUEUED", 0),
            "running": by_status.get("RUNNING", 0),
            "queueDepth": queue_depth,
            # Of the jobs that have ended (a job still in the queue has not failed).
            "successRate": percent(succeeded, succeeded + failed),
            "avgDurationMs": round(figures.avg_duration_ms),
        },
        "users": {
            "activeUsers30d": figures.active_users,
            "totalGenerations30d": figures.generations,
            "topGenerators": [
                {"userId": user_id, "jobCount": count} for user_id, count in figures.top_generators
            ],
        },
    }


@dataclass
class _Cached:
    value: dict[str, Any]
    at: float


class AdminMetrics:
    def __init__(
        self,
        *,
        uow: AdminUnitOfWorkFactory,
        clock: Clock,
        queue_depth: Callable[[], Awaitable[int]],
        cache_seconds: float = 5.0,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._queue_depth = queue_depth
        self._cache_seconds = cache_seconds
        self._cached: _Cached | None = None
        self._lock = asyncio.Lock()

    async def metrics(self) -> dict[str, Any]:
        """Computed at most once per `cache_seconds` per process (concurrent callers share it)."""
        async with self._lock:
            cached = self._cached
            if cached is not None and time.monotonic() - cached.at < self._cache_seconds:
                return cached.value
            value = await self.compute()
            self._cached = _Cached(value, time.monotonic())
            return value

    async def compute(self) -> dict[str, Any]:
        since = self._clock.now() - ACTIVITY_WINDOW
        async with self._uow() as uow:
            figures = await uow.admin_figures.figures(since, TOP_GENERATORS)
        try:
            depth = await self._queue_depth()
        except Exception:
            depth = 0  # the page still shows the database's figures if the queue is unreachable
        return shape(figures, depth)
