"""`/api/notification`: the bell."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.di import Provide

from chatsvg.application.notifications.service import NotificationService
from chatsvg.application.ports import AccessClaims
from chatsvg.entrypoints.http.deps import Inject, provide_claims
from chatsvg.entrypoints.http.openapi import (
    AUTH,
    CSRF,
    INPUT,
    SIGNED_IN,
    SIGNED_IN_UNSAFE,
    problems,
)
from chatsvg.entrypoints.http.schemas import Badge, NotificationPage, Ok, notification_json
from chatsvg.entrypoints.http.security import NO_STORE


class NotificationController(Controller):
    path = "/api/notification"
    tags = ["notifications"]
    dependencies = {"claims": Provide(provide_claims)}

    @get(
        "/latest",
        summary="The user's notifications, newest first",
        security=SIGNED_IN,
        responses=problems(*INPUT, *AUTH),
    )
    async def latest(
        self,
        claims: AccessClaims,
        notifications: Inject[NotificationService],
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Response[NotificationPage]:
        page, seen_at = await notifications.latest(claims.user_id, limit=limit, cursor=cursor)
        body = NotificationPage(
            notifications=[notification_json(n, seen_at) for n in page.items],
            next_cursor=page.next_cursor,
        )
        return Response(body, headers=NO_STORE)

    @get(
        "/badge",
        summary="How many notifications came since the user last marked them seen",
        security=SIGNED_IN,
        responses=problems(*AUTH),
    )
    async def badge(
        self, claims: AccessClaims, notifications: Inject[NotificationService]
    ) -> Response[Badge]:
        count = await notifications.unread_count(claims.user_id)
        return Response(Badge(unread_count=count), headers=NO_STORE)

    @post(
        "/seen",
        status_code=200,
        summary="Mark every notification seen",
        security=SIGNED_IN_UNSAFE,
        responses=problems(*CSRF, *AUTH),
    )
    async def seen(self, claims: AccessClaims, notifications: Inject[NotificationService]) -> Ok:
        await notifications.mark_seen(claims.user_id)
        return Ok(ok=True)
