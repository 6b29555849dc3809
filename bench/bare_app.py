"""The ceiling: a one-route Litestar app under exactly the uvicorn settings `chatsvg serve` uses.

    .venv/bin/python bench/bare_app.py --port 8001

POST /api/svg/generate-svg answers 202 {"ok": true} without reading the body, authenticating or
touching any store: what the framework and the server cost by themselves. With DATABASE_URL set,
POST /bare/select also answers 202 after one `SELECT` on a pooled asyncpg connection: the least a
request that reads the database costs (the reference of issue 25's ratios). The server is built by
`chatsvg.entrypoints.server.uvicorn_config` (uvloop, httptools, one process), the same function
`chatsvg serve` calls, so both sides of the comparison always run the same server settings.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import uvicorn  # noqa: E402
from litestar import Litestar, get, post  # noqa: E402

from chatsvg.entrypoints.settings import load_settings  # noqa: E402


@post("/api/svg/generate-svg", status_code=202)
async def generate() -> dict[str, bool]:
    return {"ok": True}


@get("/health/ready")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


_POOL: list[Any] = []


@post("/bare/select", status_code=202)
async def select() -> dict[str, bool]:
    """One SELECT on a pooled asyncpg connection, as cheap as a database round trip gets."""
    await _POOL[0].fetchval("SELECT 1")
    return {"ok": True}


async def _open_pool() -> None:
    import asyncpg

    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    _POOL.append(await asyncpg.create_pool(url, min_size=2, max_size=10))


async def _close_pool() -> None:
    for pool in _POOL:
        await pool.close()


def make_app() -> Litestar:
    with_db = bool(os.environ.get("DATABASE_URL"))
    return Litestar(
        route_handlers=[generate, ready, *([select] if with_db else [])],
        on_startup=[_open_pool] if with_db else [],
        on_shutdown=[_close_pool] if with_db else [],
        debug=False,
        openapi_config=None,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    app = make_app()
    settings = load_settings(
        {
            "CHATSVG_LOG_LEVEL": "WARNING",
            "CHATSVG_API_WORKERS": os.environ.get("CHATSVG_API_WORKERS", "1"),
        }
    )
    if settings.api_workers > 1:  # the same process count as the API under test
        from chatsvg.entrypoints.server import _options

        uvicorn.run(
            "bare_app:make_app",
            factory=True,
            app_dir=str(Path(__file__).parent),
            host=args.host,
            port=args.port,
            workers=settings.api_workers,
            **_options(settings, False),
        )
        return
    try:
        from chatsvg.entrypoints.server import uvicorn_config
    except ImportError:  # an older tree: the arguments `chatsvg serve` passed to uvicorn.run
        config = uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            proxy_headers=False,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=20,
        )
    else:
        config = uvicorn_config(app, host=args.host, port=args.port, settings=settings)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
