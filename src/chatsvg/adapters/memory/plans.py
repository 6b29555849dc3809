"""In-memory plan usage: the user's jobs in the quota's window, as the SQL adapter counts them."""

from __future__ import annotations

from datetime import datetime

from chatsvg.adapters.memory.repository import MemoryRepository
from chatsvg.domain.generation.jobs import JobStatus


class MemoryPlanUsage(MemoryRepository):
    async def generations_since(self, user_id: str, since: datetime) -> tuple[int, datetime | None]:
        times = [
            j.created_at
            for j in self._db.scan("generation_jobs")
            if j.user_id == user_id and j.created_at >= since and j.status is not JobStatus.FAILED
        ]
        return len(times), min(times, default=None)
