"""The notification bell: latest notifications, the unread badge, and marking them seen."""

from __future__ import annotations

from datetime import datetime

from chatsvg.application.pagination import Page, check_limit, decode_cursor, paginate
from chatsvg.application.ports import Clock, UnitOfWorkFactory
from chatsvg.domain.errors import Unauthenticated
from chatsvg.domain.notifications.notifications import Notification


class NotificationService:
    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def latest(
        self, user_id: str, *, limit: int | None, cursor: str | None
    ) -> tuple[Page[Notification], datetime | None]:
        """The page, and when the user last marked notifications seen (older ones count as read)."""
        size = check_limit(limit)
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise Unauthenticated()
            rows = await uow.notifications.latest(
                user_id, limit=size + 1, before=decode_cursor(cursor)
            )
        return paginate(rows, size, lambda n: (n.created_at, n.id)), user.notifications_seen_at

    async def unread_count(self, user_id: str) -> int:
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise Unauthenticated()
            return await uow.notifications.unread_count(user_id, user.notifications_seen_at)

    async def mark_seen(self, user_id: str) -> None:
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise Unauthenticated()
            user.mark_notifications_seen(self._clock.now())
            await uow.users.update(user)
            await uow.commit()
