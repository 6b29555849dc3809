"""GET /metrics in the Prometheus text format.

No query runs here: the database-wide figures are the last ones `ClusterFigures` computed (one
Redis GET), and in multiprocess mode the rest is the whole pod's files (observability.py)."""

from __future__ import annotations

from litestar import MediaType, Response, get

from chatsvg.entrypoints.http.deps import Inject
from chatsvg.entrypoints.observability import ClusterFigures, render_metrics


@get(
    "/metrics",
    media_type=MediaType.TEXT,
    tags=["operations"],
    summary="Prometheus metrics (text exposition format)",
    security=[{}],
)
async def metrics(figures: Inject[ClusterFigures]) -> Response[bytes]:
    body, content_type = render_metrics(await figures.latest())
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
