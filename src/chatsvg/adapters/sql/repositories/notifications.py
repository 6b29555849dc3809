"""Notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select

from chatsvg.adapters.sql import tables as t
from chatsvg.adapters.sql.repositories.base import SqlRepository, insert_once, newest_first
from chatsvg.application.ports import Position
from chatsvg.domain.notifications.notifications import Notification

_N = t.notifications
# One notification of each type per job: the table's unique (job_id, type) key.
_ONCE_PER_JOB = ("job_id", "type")


def _notification(row: Any) -> Notification:
    return Notification(
        id=row.id,
        user_id=row.user_id,
        type=row.type,
        title=row.title,
        message=row.message,
        created_at=row.created_at,
        job_id=row.job_id,
        data=row.data or {},
        read_at=row.read_at,
    )


class SqlNotifications(SqlRepository):
    async def add(self, notification: Notification) -> bool:
        if notification.job_id is not None:
            stmt = insert_once(self._dialect, _N, _ONCE_PER_JOB)
        else:
            stmt = insert(_N)
        result = await self._c.execute(stmt, notification.__dict__)
        return bool(result.rowcount == 1)

    async def add_many(self, notifications: list[Notification]) -> set[str]:
        return await self._insert_reporting(_N, _ONCE_PER_JOB, [n.__dict__ for n in notifications])

    async def latest(
        self, user_id: str, *, limit: int, before: Position | None
    ) -> list[Notification]:
        stmt = newest_first(select(_N).where(_N.c.user_id == user_id), _N, before, limit)
        return [_notification(r) for r in await self._c.execute(stmt)]

    async def unread_count(self, user_id: str, since: datetime | None) -> int:
        stmt = select(func.count()).select_from(_N).where(_N.c.user_id == user_id)
        if since is not None:
            stmt = stmt.where(_N.c.created_at > since)
        return int(await self._c.scalar(stmt) or 0)
