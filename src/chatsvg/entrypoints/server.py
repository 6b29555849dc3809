"""The ASGI server settings, in one place for `chatsvg serve`, the tests and the benchmarks."""

from __future__ import annotations

import gc
import os
from typing import Any

import uvicorn

from chatsvg.entrypoints.observability import prepare_multiprocess_dir, remove_multiprocess_dir
from chatsvg.entrypoints.settings import Settings, SettingsError


def _options(settings: Settings, access_log: bool) -> dict[str, Any]:
    return {
        # The client address is ours to derive (CHATSVG_TRUSTED_PROXIES); uvicorn must not rewrite
        # it from X-Forwarded-For, or any local peer could choose its own rate-limit key.
        "proxy_headers": False,
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets-sansio",
        "lifespan": "on",
        "log_level": settings.log_level.lower(),
        "log_config": None,  # keep the structured logging set up by entrypoints.logs
        "access_log": access_log,
        "timeout_graceful_shutdown": 20,
        "timeout_keep_alive": 15,
    }


def serve(settings: Settings, *, host: str, port: int, access_log: bool = False) -> None:
    """Run the API: one process, or CHATSVG_API_WORKERS processes sharing the port (production
    mode only: they must share Postgres and Redis, and Socket.IO needs sticky sessions in front)."""
    if settings.api_workers > 1:
        if settings.local or not settings.redis_url:
            raise SettingsError(
                "CHATSVG_API_WORKERS > 1 needs production mode with Postgres and Redis."
            )
        os.environ["CHATSVG_PUBLIC_URL"] = settings.public_url  # the children read the environment
        # Each process records its metrics in this directory, and any of them answers a scrape
        # with the sum of all (prometheus-client's multiprocess mode).
        metrics_dir = prepare_multiprocess_dir()
        try:
            uvicorn.run(
                "chatsvg.entrypoints.http.app:app_from_environment",
                factory=True,
                host=host,
                port=port,
                workers=settings.api_workers,
                **_options(settings, access_log),
            )
        finally:
            remove_multiprocess_dir(metrics_dir)
        return
    from chatsvg.entrypoints.http.app import create_app

    server = uvicorn.Server(
        uvicorn_config(
            create_app(settings), host=host, port=port, settings=settings, access_log=access_log
        )
    )
    freeze_startup_objects()
    server.run()


# Full collections only after this many younger ones (CPython's default is 10).
FULL_COLLECTION_EVERY = 100


def freeze_startup_objects() -> None:
    """Keep full garbage collections off the requests and jobs in flight (docs/performance.md).

    Everything built at start-up (modules, the app, the container) moves out of the collector's
    reach. What a full collection still walks is what the process built since, mostly
    long-lived per-socket and per-job state (largely the coroutines, contexts, lists and queues
    of its sockets' tasks), and with many sockets walking it is a pause for every push and
    request in flight (the measured sizes and pauses are in docs/performance.md). Full
    collections also run ten times less often than by default; they find little (that state is
    alive), and the young generations still collect short-lived cycles as usual. Memory was
    checked in the benches."""
    gc.collect()
    gc.freeze()
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def uvicorn_config(
    app: Any, *, host: str, port: int, settings: Settings, access_log: bool = False
) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, **_options(settings, access_log))
