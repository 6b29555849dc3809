"""The ASGI server settings, in one place for `chatsvg serve`, the tests and the benchmarks."""

from __future__ import annotations

import gc
import os
from typing import Any

import uvicorn

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
        uvicorn.run(
            "chatsvg.entrypoints.http.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=settings.api_workers,
            **_options(settings, access_log),
        )
        return
    from chatsvg.entrypoints.http.app import create_app

    server = uvicorn.Server(
        uvicorn_config(
            create_app(settings), host=host, port=port, settings=settings, access_log=access_log
        )
    )
    freeze_startup_objects()
    server.run()


def freeze_startup_objects() -> None:
    """Move everything built at start-up (modules, the app, the container) out of the garbage
    collector's reach. A full collection otherwise walks those hundreds of thousands of objects
    every time, a pause of tens of milliseconds that lands on whichever requests are in flight
    (docs/performance.md)."""
    gc.collect()
    gc.freeze()


def uvicorn_config(
    app: Any, *, host: str, port: int, settings: Settings, access_log: bool = False
) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, **_options(settings, access_log))
