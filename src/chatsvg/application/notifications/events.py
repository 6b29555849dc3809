"""A notification as clients see it: one shape for the socket event `notification:new` and for
the items of `GET /api/notification/latest` (the HTTP schema is filled from this very payload)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chatsvg.application.wire import optional_timestamp, timestamp
from chatsvg.domain.notifications.notifications import Notification


def notification_payload(
    notification: Notification, seen_at: datetime | None = None
) -> dict[str, Any]:
    """`seen_at`: when the user last marked the bell seen (a new notification is unread)."""
    return {
        "id": notification.id,
        "type": str(notification.type),
        "title": notification.title,
        "message": notification.message,
        "data": dict(notification.data),
        "createdAt": timestamp(notification.created_at),
        "readAt": optional_timestamp(notification.read_as_of(seen_at)),
    }
