"""The composition root: one container for the API, the worker, the CLI and the tests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from chatsvg.adapters.realtime.sockets import NullRealtime, PipelinedRedisManager, SocketIoRealtime
from chatsvg.entrypoints.accounts_settings import AccountsSettings
from chatsvg.entrypoints.containers import create_container
from chatsvg.entrypoints.http.app import create_app, handler_dependencies
from chatsvg.entrypoints.settings import Settings, load_settings
from tests.conftest import REDIS_TEST_URL


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings({}, data_dir=str(tmp_path), **overrides)


def test_the_socket_server_is_built_over_the_publishers_manager(tmp_path: Path) -> None:
    """No cycle: the publisher (and so every service) exists before the server, which is then
    built over the same client manager and authenticates with the container's auth service."""
    container = create_container(settings(tmp_path), AccountsSettings())
    realtime = container.infrastructure.realtime()
    auth = container.accounts.auth()
    assert isinstance(realtime, SocketIoRealtime)
    server = container.web.socket_server()
    assert server.manager is container.infrastructure.socket_manager()
    assert container.accounts.auth() is auth  # one auth service: the server's and the handlers'


async def test_a_worker_container_publishes_but_serves_no_sockets(tmp_path: Path) -> None:
    alone = create_container(settings(tmp_path), AccountsSettings(), process="worker")
    assert isinstance(alone.infrastructure.realtime(), NullRealtime)

    container = create_container(
        settings(tmp_path, redis_url=REDIS_TEST_URL), AccountsSettings(), worker_process=True
    )
    realtime = container.infrastructure.realtime()
    assert isinstance(realtime, SocketIoRealtime)
    try:
        # A worker has no sockets to disconnect: it does not listen for revocations.
        await asyncio.wait_for(realtime.listen_for_revocations(), 1)
        await realtime.job_updated("user-1", {"jobId": "j", "seq": 1})
        await realtime.flush()
    finally:
        manager = realtime._manager
        assert isinstance(manager, PipelinedRedisManager) and manager.write_only
        if manager.redis is not None:
            await manager.redis.aclose()


def test_no_service_is_a_request_parameter(tmp_path: Path) -> None:
    """Every service a handler names comes from the container: none is taken for a query
    parameter (which is what Litestar makes of a parameter nothing provides)."""
    container = create_container(settings(tmp_path), AccountsSettings())
    names = set(handler_dependencies(container))
    app = create_app(container.settings(), container)
    document = TestClient(app).get("/schema/openapi.json").json()
    parameters = {
        parameter["name"]
        for path in document["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
    }
    assert parameters and not parameters & names, parameters & names
