"""Ports of plans: what the per-window generation quota reads."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class PlanUsage(Protocol):
    async def generations_since(self, user_id: str, since: datetime) -> tuple[int, datetime | None]:
        """How many drawings the user's generation jobs submitted at or after `since` make (a job
        counts its `variants`, n), over every job except those that ended FAILED (refunded), and
        when the oldest of those jobs was submitted (None when there is none)."""
        ...
