"""Handler dependencies: what cannot wait is resolved in the request's own task; what can wait
still waits concurrently (entrypoints/http/dependency_batches.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from litestar import Litestar, get
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException
from litestar.testing import TestClient

from chatsvg.entrypoints.http import dependency_batches

LITESTAR_OWN = dependency_batches.LITESTAR_OWN


def _app(handler: Any, dependencies: dict[str, Provide]) -> Litestar:
    dependency_batches.install()
    return Litestar(route_handlers=[handler], dependencies=dependencies, logging_config=None)


def test_the_app_installs_it(tmp_path: Path) -> None:
    from litestar._kwargs.kwargs_model import KwargsModel

    from chatsvg.entrypoints.accounts_settings import AccountsSettings
    from chatsvg.entrypoints.containers import create_container
    from chatsvg.entrypoints.http.app import create_app
    from tests.unit.test_container import settings

    ours = KwargsModel.resolve_dependencies
    KwargsModel.resolve_dependencies = LITESTAR_OWN  # type: ignore[method-assign]
    try:
        container = create_container(settings(tmp_path), AccountsSettings())
        create_app(container.settings(), container)
        assert dependency_batches.installed()
    finally:
        KwargsModel.resolve_dependencies = ours  # type: ignore[method-assign]


def test_constants_and_sync_providers_run_in_the_request_task() -> None:
    tasks: dict[str, asyncio.Task[Any] | None] = {}

    def constant(name: str, value: int) -> Provide:
        def provide() -> int:
            tasks[name] = asyncio.current_task()
            return value

        return Provide(provide, use_cache=True, sync_to_thread=False)

    async def total(one: int, two: int) -> int:
        tasks["total"] = asyncio.current_task()
        return one + two

    @get("/sum")
    async def handler(one: int, two: int, three: int, total: int) -> dict[str, Any]:
        tasks["handler"] = asyncio.current_task()
        return {"values": [one, two, three, total]}

    app = _app(
        handler,
        {
            "one": constant("one", 1),
            "two": constant("two", 2),
            "three": constant("three", 3),
            "total": Provide(total),
        },
    )
    with TestClient(app) as client:
        assert client.get("/sum").json() == {"values": [1, 2, 3, 3]}
        # Litestar's own resolver ran each of one, two and three in a task of its own.
        assert set(tasks) == {"one", "two", "three", "total", "handler"}
        assert {id(task) for task in tasks.values()} == {id(tasks["handler"])}
        tasks.clear()
        assert client.get("/sum").json() == {"values": [1, 2, 3, 3]}  # the cached values
        assert set(tasks) == {"total", "handler"}


def test_dependencies_that_wait_still_wait_together() -> None:
    """Each of these finishes only once the other has started: resolved one after the other,
    the request would hang (bounded here by the timeout)."""
    state: dict[str, asyncio.Event] = {}

    def events() -> tuple[asyncio.Event, asyncio.Event]:
        if not state:
            state["a"], state["b"] = asyncio.Event(), asyncio.Event()
        return state["a"], state["b"]

    async def left() -> str:
        a, b = events()
        a.set()
        await asyncio.wait_for(b.wait(), 5)
        return "left"

    async def right() -> str:
        a, b = events()
        b.set()
        await asyncio.wait_for(a.wait(), 5)
        return "right"

    @get("/both")
    async def handler(left: str, right: str, constant: int) -> list[Any]:
        return [left, right, constant]

    app = _app(
        handler,
        {
            "left": Provide(left),
            "right": Provide(right),
            "constant": Provide(lambda: 7, use_cache=True, sync_to_thread=False),
        },
    )
    with TestClient(app) as client:
        assert client.get("/both").json() == ["left", "right", 7]


def test_a_failing_dependency_fails_the_request_with_its_own_error() -> None:
    async def refuses() -> str:
        raise NotAuthorizedException("no")

    async def fine() -> str:
        await asyncio.sleep(0)
        return "fine"

    def sync_refuses() -> str:
        raise NotAuthorizedException("no")

    @get("/two")
    async def two(refused: str, other: str) -> str:
        return "unreachable"

    @get("/sync")
    async def one(refused_sync: str) -> str:
        return "unreachable"

    dependency_batches.install()
    app = Litestar(
        route_handlers=[two, one],
        dependencies={
            "refused": Provide(refuses),
            "other": Provide(fine),
            "refused_sync": Provide(sync_refuses, sync_to_thread=False),
        },
        logging_config=None,
    )
    with TestClient(app) as client:
        assert client.get("/two").status_code == 401
        assert client.get("/sync").status_code == 401


def test_generator_dependencies_are_still_cleaned_up() -> None:
    closed: list[str] = []

    def resource() -> Iterator[str]:
        yield "open"
        closed.append("closed")

    @get("/resource")
    async def handler(resource: str, constant: int) -> str:
        return resource

    app = _app(
        handler,
        {
            "resource": Provide(resource),
            "constant": Provide(lambda: 1, use_cache=True, sync_to_thread=False),
        },
    )
    with TestClient(app) as client:
        assert client.get("/resource").text == "open"
    assert closed == ["closed"]
