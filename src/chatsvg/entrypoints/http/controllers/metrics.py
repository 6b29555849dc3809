"""GET /metrics in the Prometheus text format."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response, get

from chatsvg.entrypoints.http.deps import services
from chatsvg.entrypoints.observability import refresh_gauges, render_metrics

log = logging.getLogger(__name__)


@get(
    "/metrics",
    media_type=MediaType.TEXT,
    tags=["operations"],
    summary="Prometheus metrics (text exposition format)",
    security=[{}],
)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    s = services(request)
    try:
        await refresh_gauges(s.database, s.queue)
    except Exception:  # a scrape must still answer when the database is down (readiness says why)
        log.warning("metrics: database or queue gauges unavailable", exc_info=True)
    body, content_type = render_metrics()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
