"""The public gallery's first-page cache: in process (local mode) or in Redis (shared by replicas).

Invalidation bumps a version number that is part of every key, so one INCR retires every cached
page at once, whatever filters they were for; old pages expire on their own.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from datetime import datetime
from typing import Any

from chatsvg.adapters.redis_clients import redis_client
from chatsvg.domain.generation.generations import SvgGeneration

log = logging.getLogger(__name__)


def _encode(rows: list[SvgGeneration]) -> str:
    return json.dumps(
        [{**dataclasses.asdict(g), "created_at": g.created_at.isoformat()} for g in rows]
    )


def _decode(text: str | bytes) -> list[SvgGeneration]:
    rows: list[dict[str, Any]] = json.loads(text)
    return [
        SvgGeneration(**{**row, "created_at": datetime.fromisoformat(row["created_at"])})
        for row in rows
    ]


class InProcessGalleryCache:
    def __init__(self, ttl_seconds: float = 60.0) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, list[SvgGeneration]]] = {}

    async def get(self, key: str) -> list[SvgGeneration] | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return list(entry[1])

    async def put(self, key: str, rows: list[SvgGeneration]) -> None:
        self._entries[key] = (time.monotonic() + self._ttl, list(rows))

    async def invalidate(self) -> None:
        self._entries.clear()


class RedisGalleryCache:
    def __init__(
        self, redis_url: str, *, ttl_seconds: int = 60, prefix: str = "chatsvg:gallery"
    ) -> None:
        self._redis = redis_client(
            redis_url, timeout=0.5, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self._ttl = ttl_seconds
        self._prefix = prefix

    async def _key(self, key: str) -> str:
        version = await self._redis.get(f"{self._prefix}:version")
        return f"{self._prefix}:v{int(version or 0)}:{key}"

    async def get(self, key: str) -> list[SvgGeneration] | None:
        try:
            cached = await self._redis.get(await self._key(key))
        except Exception:
            log.warning("gallery cache unreachable; reading the database", exc_info=True)
            return None
        return _decode(cached) if cached else None

    async def put(self, key: str, rows: list[SvgGeneration]) -> None:
        try:
            await self._redis.set(await self._key(key), _encode(rows), ex=self._ttl)
        except Exception:
            log.warning("gallery cache unreachable", exc_info=True)

    async def invalidate(self) -> None:
        try:
            await self._redis.incr(f"{self._prefix}:version")
        except Exception:
            # Without Redis no process can read a stale page from it either; the TTL bounds the rest.
            log.warning("gallery cache invalidation failed", exc_info=True)
