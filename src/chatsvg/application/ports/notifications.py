"""Ports of the notifications feature."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from chatsvg.application.ports.common import Position
from chatsvg.domain.notifications.notifications import Notification


class NotificationRepository(Protocol):
    async def add(self, notification: Notification) -> bool:
        """False (nothing written) when this (job, type) already has a notification."""
        ...

    async def add_many(self, notifications: list[Notification]) -> set[str]:
        """Add each as `add` does: the ids of those written."""
        ...

    async def latest(
        self, user_id: str, *, limit: int, before: Position | None
    ) -> list[Notification]: ...

    async def unread_count(self, user_id: str, since: datetime | None) -> int: ...
