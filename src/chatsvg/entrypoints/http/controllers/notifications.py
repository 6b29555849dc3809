"""`/api/notification`: the bell."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide

from chatsvg.application.ports import AccessClaims
from chatsvg.entrypoints.http.deps import provide_claims, services
from chatsvg.entrypoints.http.schemas import notification_json

Req = Request[Any, Any, Any]
NO_STORE = {"Cache-Control": "no-store"}


class NotificationController(Controller):
    path = "/api/notification"
    tags = ["notifications"]
    dependencies = {"claims": Provide(provide_claims)}

    @get("/latest")
    async def latest(
        self,
        request: Req,
        claims: AccessClaims,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Response[Any]:
        page, seen_at = await services(request).notifications.latest(
            claims.user_id, limit=limit, cursor=cursor
        )
        body = {
            "notifications": [notification_json(n, seen_at) for n in page.items],
            "nextCursor": page.next_cursor,
        }
        return Response(body, headers=NO_STORE)

    @get("/badge")
    async def badge(self, request: Req, claims: AccessClaims) -> Response[Any]:
        count = await services(request).notifications.unread_count(claims.user_id)
        return Response({"unreadCount": count}, headers=NO_STORE)

    @post("/seen", status_code=200)
    async def seen(self, request: Req, claims: AccessClaims) -> dict[str, Any]:
        await services(request).notifications.mark_seen(claims.user_id)
        return {"ok": True}
