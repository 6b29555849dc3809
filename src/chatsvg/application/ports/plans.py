"""Ports of plans: what the per-window generation quota reads."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class PlanUsage(Protocol):
    async def generations_since(self, user_id: str, since: datetime) -> tuple[int, datetime | None]:
        """How many generation jobs the user submitted at or after `since` that count against the
        quota (every job except those that ended FAILED, which were refunded), and when the oldest
        of them was submitted (None when there is none)."""
        ...
