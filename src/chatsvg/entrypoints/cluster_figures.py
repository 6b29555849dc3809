"""Database-wide figures (jobs, credits, queue depth), computed once per interval per deployment."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from chatsvg.adapters.redis_clients import redis_client
from chatsvg.adapters.sql import tables as t
from chatsvg.entrypoints.metric_definitions import FIGURES_COMPUTED

log = logging.getLogger("chatsvg.metrics")

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
