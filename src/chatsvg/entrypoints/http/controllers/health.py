"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Response, get
from litestar.openapi import ResponseSpec

from chatsvg.entrypoints.http.deps import Inject, Pingable
from chatsvg.entrypoints.http.openapi import ANYONE
from chatsvg.entrypoints.http.schemas import Liveness, Readiness


@get(
    ["/health/live", "/api/health"],
    tags=["operations"],
    summary="The process is up",
    security=ANYONE,
)
async def live() -> Liveness:
    return Liveness(status="ok")


@get(
    ["/health/ready", "/api/ready"],
    tags=["operations"],
    summary="The database, queue and storage are reachable",
    security=ANYONE,
    responses={
        200: ResponseSpec(Readiness, generate_examples=False, description="Ready."),
        503: ResponseSpec(
            Readiness,
            generate_examples=False,
            description="Not ready: `status` is `unavailable` and `checks` names what failed.",
        ),
    },
)
async def ready(
    database: Inject[Pingable], queue: Inject[Pingable], storage: Inject[Pingable]
) -> Response[Any]:
    checks: dict[str, str] = {}

    async def check(name: str, probe: Any) -> None:
        try:
            await asyncio.wait_for(probe(), timeout=2.0)
            checks[name] = "ok"
        except Exception:
            checks[name] = "unavailable"

    await asyncio.gather(
        check("database", database.ping),
        check("queue", queue.ping),
        check("storage", storage.ping),
    )
    ok = all(v == "ok" for v in checks.values())
    return Response(
        {"status": "ok" if ok else "unavailable", "checks": checks},
        status_code=200 if ok else 503,
        headers={"Cache-Control": "no-store"},
    )
