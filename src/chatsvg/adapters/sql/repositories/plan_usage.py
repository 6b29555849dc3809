"""What the per-window generation quota reads: the drawings of a user's jobs submitted since a
moment (a job of n variants counts n)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from chatsvg.adapters.sql import tables as t
from chatsvg.adapters.sql.repositories.base import SqlRepository
from chatsvg.domain.generation.jobs import JobStatus

_J = t.generation_jobs


class SqlPlanUsage(SqlRepository):
    async def generations_since(self, user_id: str, since: datetime) -> tuple[int, datetime | None]:
        # Both on the (user_id, created_at, id) index: the window's jobs of one user.
        counted = (
            _J.c.user_id == user_id,
            _J.c.created_at >= since,
            _J.c.status != JobStatus.FAILED.value,
        )
        total = select(func.coalesce(func.sum(_J.c.variants), 0)).where(*counted)
        used = (await self._c.execute(total)).scalar_one()
        if not used:
            return 0, None
        oldest = (
            await self._c.execute(
                select(_J.c.created_at).where(*counted).order_by(_J.c.created_at).limit(1)
            )
        ).scalar_one_or_none()
        return int(used), oldest
