"""End-to-end fixtures: a real server over real HTTP, in local (embedded) mode or on the real adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from chatsvg.entrypoints.settings import Settings, load_settings
from tests.support.live import ApiClient, LiveServer, start_server

LOCAL = {
    "argon2_time_cost": 1,
    "argon2_memory_kib": 1024,
    "rate_generate": "1000/60",
    "rate_register": "1000/60",
}


def local_settings(tmp_path: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        **LOCAL,
        "data_dir": str(tmp_path / "data"),
        "reaper_interval_seconds": 0.5,
    }
    values.update(overrides)
    return load_settings({}, **values)


@pytest.fixture
def server_factory(tmp_path: Any) -> Iterator[Callable[..., LiveServer]]:
    started: list[LiveServer] = []

    def make(**overrides: Any) -> LiveServer:
        settings = local_settings(tmp_path / f"s{len(started)}", **overrides)
        port = overrides.pop("port", None)
        live = start_server(settings, port)
        started.append(live)
        return live

    yield make
    for live in started:
        live.stop()


@pytest.fixture
def server(server_factory: Callable[..., LiveServer]) -> LiveServer:
    from tests.support.live import free_port

    port = free_port()
    return server_factory(public_url=f"http://127.0.0.1:{port}", port=port)


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
