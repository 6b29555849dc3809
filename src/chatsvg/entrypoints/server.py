"""The ASGI server settings, in one place for `chatsvg serve`, the tests and the benchmarks."""

from __future__ import annotations

from typing import Any

import uvicorn

from chatsvg.entrypoints.settings import Settings


def uvicorn_config(
    app: Any, *, host: str, port: int, settings: Settings, access_log: bool = False
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        # The client address is ours to derive (CHATSVG_TRUSTED_PROXIES); uvicorn must not rewrite
        # it from X-Forwarded-For, or any local peer could choose its own rate-limit key.
        proxy_headers=False,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        lifespan="on",
        log_level=settings.log_level.lower(),
        log_config=None,  # keep the structured logging set up by entrypoints.logs
        access_log=access_log,
        timeout_graceful_shutdown=20,
        timeout_keep_alive=15,
    )
