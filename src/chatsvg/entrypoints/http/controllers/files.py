"""Serving stored artifacts behind our signed, expiring URLs, with the headers that keep an SVG inert."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from chatsvg.adapters.storage.content_disposition import content_disposition
from chatsvg.adapters.storage.signed_urls import ApiServedStorage, SignatureInvalid
from chatsvg.entrypoints.http.deps import services
from chatsvg.entrypoints.http.openapi import ANYONE, INPUT, problems
from chatsvg.entrypoints.http.problems import problem

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
async def signed_file(request: Request[Any, Any, Any], key: str) -> Response[bytes]:
    storage = services(request).storage
    if not isinstance(storage, ApiServedStorage):
        return problem(404, "NOT_FOUND", "Not found.")
    key = key.lstrip("/")
    q = request.query_params
    try:
        attachment = storage.verify(
            key,
            expires=q.get("exp", ""),
            attachment=q.get("dl", ""),
            filename=q.get("fn", ""),
            signature=q.get("sig", ""),
        )
    except SignatureInvalid:
        return problem(
            403,
            "FORBIDDEN",
            "This link is invalid or has expired.",
            headers={"Cache-Control": "no-store"},
        )
    data = await storage.get(key)
    if data is None:
        return problem(404, "NOT_FOUND", "Not found.")
    headers = {
        **SVG_HEADERS,
        "Content-Disposition": content_disposition(q.get("fn", ""), attachment=attachment),
    }
    return Response(data, media_type="image/svg+xml", headers=headers)
