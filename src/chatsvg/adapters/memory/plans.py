"""In-memory plan usage: the drawings of the user's jobs in the quota's window (a job of n
variants counts n), as the SQL adapter counts them."""

from __future__ import annotations

from datetime import datetime

from chatsvg.adapters.memory.repository import MemoryRepository
from chatsvg.domain.generation.jobs import JobStatus


class MemoryPlanUsage(MemoryRepository):
    async def generations_since(self, user_id: str, since: datetime) -> tuple[int, datetime | None]:
        counted = [
            j
            for j in self._db.scan("generation_jobs")
            if j.user_id == user_id and j.created_at >= since and j.status is not JobStatus.FAILED
        ]
        used = sum(j.variants for j in counted)
        return used, min((j.created_at for j in counted), default=None)
