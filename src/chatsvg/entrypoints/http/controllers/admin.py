"""The admin page's API (/api/admin): sign-in by a mailed single-use link, its metrics, logout.

No CSRF token here (the web client's admin page sends none): `WebSecurity.check_admin_origin`
checks the Origin of every request instead. The admin session cookie is its own (`admin_session`,
HttpOnly, SameSite=Lax, path /api/admin), apart from user sessions."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.status_codes import HTTP_302_FOUND

from chatsvg.application.admin.access import AdminAccess
from chatsvg.application.admin.metrics import AdminMetrics
from chatsvg.application.ports import Clock
from chatsvg.entrypoints.http.admin_schemas import (
    AdminEmailBody,
    AdminMessage,
    AdminMetricsAnswer,
)
from chatsvg.entrypoints.http.deps import Inject
from chatsvg.entrypoints.http.openapi import (
    CSRF,
    INPUT,
    JSON_BODY,
    RATE_LIMIT_HEADERS,
    no_body,
    problems,
)
from chatsvg.entrypoints.http.security import ADMIN_COOKIE, WebSecurity, rate_headers
from chatsvg.entrypoints.settings import Settings

Req = Request[Any, Any, Any]
ADMIN_SESSION: list[dict[str, list[str]]] = [{"adminSession": []}]
ANYONE: list[dict[str, list[str]]] = [{}]


class AdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]

    @post(
        "/request-access",
        status_code=200,
        summary="Ask for a sign-in link to the admin page (the same answer for every address)",
        security=ANYONE,
        response_headers=RATE_LIMIT_HEADERS,
        responses=problems(*JSON_BODY, *CSRF, "RATE_LIMITED"),
    )
    async def request_access(
        self,
        request: Req,
        data: AdminEmailBody,
        admin_access: Inject[AdminAccess],
        security: Inject[WebSecurity],
    ) -> Response[AdminMessage]:
        answer = await admin_access.request_access(data.email, security.client_ip(request))
        return Response(AdminMessage(message=answer.message), headers=rate_headers(answer.rate))

    @get(
        "/auth",
        status_code=HTTP_302_FOUND,
        summary="Open a mailed sign-in link: sets the admin_session cookie, goes to <web app>/admin",
        security=ANYONE,
        responses=no_body(
            HTTP_302_FOUND,
            "Signed in; redirected to the admin page. A used, expired or unknown link: 400 "
            "`ADMIN_LINK_INVALID`.",
            *CSRF,
            *INPUT,
        ),
    )
    async def auth(
        self,
        token: str,
        admin_access: Inject[AdminAccess],
        security: Inject[WebSecurity],
        settings: Inject[Settings],
        clock: Inject[Clock],
    ) -> Response[None]:
        signed_in = await admin_access.sign_in(token)
        max_age = max(1, round((signed_in.expires_at - clock.now()).total_seconds()))
        return Response(
            None,
            status_code=HTTP_302_FOUND,
            headers={"Location": settings.admin_page_url, "Cache-Control": "no-store"},
            cookies=[security.admin_cookie(signed_in.token, max_age)],
        )

    @get(
        "/metrics",
        summary="AI, job and user metrics (admin session)",
        security=ADMIN_SESSION,
        responses=problems(*CSRF, "UNAUTHENTICATED"),
    )
    async def metrics(
        self,
        request: Req,
        admin_access: Inject[AdminAccess],
        admin_metrics: Inject[AdminMetrics],
    ) -> Response[AdminMetricsAnswer]:
        await admin_access.admin(request.cookies.get(ADMIN_COOKIE))
        figures = await admin_metrics.metrics()
        return Response(
            msgspec.convert(figures, AdminMetricsAnswer),
            headers={"Cache-Control": "no-store, private"},
        )

    @post(
        "/logout",
        status_code=200,
        summary="End the admin session; clears the admin_session cookie",
        security=ADMIN_SESSION,
        responses=problems(*CSRF),
    )
    async def logout(
        self, request: Req, admin_access: Inject[AdminAccess], security: Inject[WebSecurity]
    ) -> Response[AdminMessage]:
        await admin_access.logout(request.cookies.get(ADMIN_COOKIE))
        return Response(
            AdminMessage(message="Signed out of the admin page."),
            cookies=[security.cleared_admin_cookie()],
        )
