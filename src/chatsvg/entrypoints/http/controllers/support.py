"""POST /api/support/contact."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import Provide

from chatsvg.application.ports import AccessClaims, RateLimiter
from chatsvg.application.support.service import SupportRequest, SupportService
from chatsvg.entrypoints.http.deps import Inject, provide_optional_claims
from chatsvg.entrypoints.http.openapi import (
    CSRF,
    CSRF_OR_SIGNED_IN,
    JSON_BODY,
    RATE_LIMIT_HEADERS,
    problems,
)
from chatsvg.entrypoints.http.schemas import OkMessage, SupportBody
from chatsvg.entrypoints.http.security import WebSecurity, enforce, with_rate_headers


@post(
    "/api/support/contact",
    status_code=200,
    tags=["support"],
    dependencies={"viewer": Provide(provide_optional_claims)},
    summary="Send a message to support (signed in or not; `email` required when signed out)",
    security=CSRF_OR_SIGNED_IN,
    response_headers=RATE_LIMIT_HEADERS,
    responses=problems(*JSON_BODY, *CSRF, "RATE_LIMITED"),
)
async def contact(
    request: Request[Any, Any, Any],
    viewer: AccessClaims | None,
    data: SupportBody,
    support: Inject[SupportService],
    security: Inject[WebSecurity],
    limiter: Inject[RateLimiter],
) -> Response[OkMessage]:
    ip = security.client_ip(request)
    enforce(await limiter.hit("support", f"ip:{ip}"), request)
    if viewer is not None:
        enforce(await limiter.hit("support", f"user:{viewer.user_id}"), request)
    await support.contact(
        SupportRequest(
            data.type, data.subject, data.message, data.email, data.context_url, data.user_agent
        ),
        user_id=viewer.user_id if viewer else None,
    )
    response = Response(
        OkMessage(ok=True, message="Thanks! We got your message and will reply by email.")
    )
    return with_rate_headers(request, response)
