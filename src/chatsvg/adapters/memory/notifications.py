"""In-memory notifications."""

from __future__ import annotations

from datetime import datetime

from chatsvg.adapters.memory.repository import MemoryRepository, newest_first
from chatsvg.application.ports import Position
from chatsvg.domain.notifications.notifications import Notification

# One notification of each type per job: the table's unique (job_id, type) key.
_ONCE_PER_JOB = ("job_id", "type")


class MemoryNotifications(MemoryRepository):
    async def add(self, notification: Notification) -> bool:
        return self._db.insert_once("notifications", notification, _ONCE_PER_JOB)

    async def add_many(self, notifications: list[Notification]) -> set[str]:
        return {n.id for n in notifications if await self.add(n)}

    async def latest(
        self, user_id: str, *, limit: int, before: Position | None
    ) -> list[Notification]:
        rows = (n for n in self._db.scan("notifications") if n.user_id == user_id)
        return newest_first(rows, before, limit)

    async def unread_count(self, user_id: str, since: datetime | None) -> int:
        return sum(
            1
            for n in self._db.scan("notifications")
            if n.user_id == user_id and (since is None or n.created_at > since)
        )
