"""redis.asyncio clients whose connection pools wait for a free connection instead of failing.

redis-py's asyncio `ConnectionPool` (what `Redis.from_url` builds) holds at most 100 connections
and raises `MaxConnectionsError` for the 101st concurrent command. A worker with hundreds of jobs
in flight, or an API under a burst, goes past that easily: rate-limit checks then fail (open or
closed, by policy) and cache reads miss for no reason. A `BlockingConnectionPool` makes the extra
commands wait their turn on a bounded set of connections instead.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

DEFAULT_MAX_CONNECTIONS = 64


def blocking_pool(
    url: str,
    *,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    timeout: float = 10.0,
    **options: Any,
) -> aioredis.BlockingConnectionPool:
    """`timeout`: how long a command waits for a free connection before failing. A new
    connection gives up after 5 s unless told otherwise: a Redis host that vanished without a
    reset would otherwise hold every command for the kernel's connect timeout (minutes)."""
    options.setdefault("socket_connect_timeout", 5.0)
    return aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=timeout, **options
    )


def redis_client(
    url: str,
    *,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    timeout: float = 10.0,
    **options: Any,
) -> aioredis.Redis:
    return aioredis.Redis(
        connection_pool=blocking_pool(
            url, max_connections=max_connections, timeout=timeout, **options
        )
    )
