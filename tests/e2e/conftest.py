"""End-to-end fixtures: a real server over real HTTP, in local (embedded) mode or on the real adapters."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from chatsvg.entrypoints.settings import Settings, load_settings
from tests.conftest import run_in_fresh_loop, truncate_all
from tests.support.live import ApiClient, LiveServer, free_port, start_server
from tests.support.real_stack import RealServices, flush_redis

LOCAL = {
    "argon2_time_cost": 1,
    "argon2_memory_kib": 1024,
    "rate_generate": "1000/60",
    "rate_register": "1000/60",
    "plan_quotas": False,  # flows here submit more than a plan's window allows
}


def local_settings(tmp_path: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        **LOCAL,
        "data_dir": str(tmp_path / "data"),
        "reaper_interval_seconds": 0.5,
    }
    values.update(overrides)
    return load_settings({}, **values)


@pytest.fixture(params=["embedded", pytest.param("real", marks=pytest.mark.real)])
def stack_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server_factory(
    tmp_path: Any, stack_kind: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., LiveServer]]:
    """Start API servers: embedded (local mode), or on the real adapters with a worker process."""
    started: list[LiveServer] = []

    def make(*, worker: bool = True, **overrides: Any) -> LiveServer:
        port = overrides.pop("port", None) or free_port()
        overrides.setdefault("public_url", f"http://127.0.0.1:{port}")
        data = tmp_path / f"s{len(started)}"
        if stack_kind == "real":
            services: RealServices = request.getfixturevalue("real_services")
            bucket = (
                request.getfixturevalue("real_worker")
                if worker
                else f"chatsvg-{uuid.uuid4().hex[:8]}"
            )
            if not started:
                run_in_fresh_loop(lambda: _truncate(services.postgres_url))
                flush_redis(services.redis_url)
            overrides.pop("offline_delay_seconds", None)
            settings = local_settings(
                data, **services.settings_values(s3_bucket=bucket, **overrides)
            )
        else:
            settings = local_settings(data, **overrides)
        live = start_server(settings, port)
        started.append(live)
        return live

    yield make
    for live in started:
        live.stop()


async def _truncate(url: str) -> None:
    from chatsvg.adapters.sql.engine import SqlDatabase

    db = SqlDatabase(url)
    try:
        await truncate_all(db)
    finally:
        await db.dispose()


@pytest.fixture
def server(server_factory: Callable[..., LiveServer]) -> LiveServer:
    return server_factory()


@pytest.fixture
async def client_factory(server: LiveServer) -> AsyncIterator[Callable[..., ApiClient]]:
    clients: list[ApiClient] = []

    def make(origin: str | None = None, base: LiveServer | None = None) -> ApiClient:
        c = ApiClient((base or server).url, origin=origin)
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
async def client(client_factory: Callable[..., ApiClient]) -> ApiClient:
    c = client_factory()
    await c.load_page()
    return c
