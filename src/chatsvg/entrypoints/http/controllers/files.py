"""Serving stored artifacts behind our signed, expiring URLs, with the headers that keep an SVG inert."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from chatsvg.entrypoints.http.deps import Inject
from chatsvg.entrypoints.http.openapi import ANYONE, INPUT, problems
from chatsvg.entrypoints.http.problems import problem
from chatsvg.entrypoints.http.signed_files import LinkInvalid, SignedFiles

SVG_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "Cache-Control": "private, max-age=60",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Referrer-Policy": "no-referrer",
}


@get(
    "/api/files/{key:path}",
    media_type="image/svg+xml",
    tags=["svg"],
    summary="A stored SVG behind a signed, expiring URL (from /download, /image, svgUrl)",
    description="The URL carries its own credential (`exp`, `dl`, `fn`, `sig`); use it as it is. "
    "Served with nosniff and a sandboxing Content-Security-Policy; `Content-Disposition` is "
    "attachment for downloads, inline for images. A changed or expired URL is 403.",
    security=ANYONE,
    responses=problems(*INPUT, "FORBIDDEN", "NOT_FOUND"),
)
async def signed_file(
    request: Request[Any, Any, Any], key: str, signed_files: Inject[SignedFiles]
) -> Response[bytes]:
    if not signed_files.enabled:
        return problem(404, "NOT_FOUND", "Not found.")
    q = request.query_params
    try:
        served = await signed_files.open(
            key.lstrip("/"),
            expires=q.get("exp", ""),
            attachment=q.get("dl", ""),
            filename=q.get("fn", ""),
            signature=q.get("sig", ""),
        )
    except LinkInvalid:
        return problem(
            403,
            "FORBIDDEN",
            "This link is invalid or has expired.",
            headers={"Cache-Control": "no-store"},
        )
    if served is None:
        return problem(404, "NOT_FOUND", "Not found.")
    headers = {**SVG_HEADERS, "Content-Disposition": served.content_disposition}
    return Response(served.data, media_type="image/svg+xml", headers=headers)
