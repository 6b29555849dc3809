"""Notifications."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, column, func, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from chatsvg.adapters.sql import tables as t
from chatsvg.adapters.sql.driver_statement import DriverStatement
from chatsvg.adapters.sql.repositories.base import SqlRepository, insert_once, newest_first
from chatsvg.application.ports import Position
from chatsvg.domain.notifications.notifications import Notification

_N = t.notifications
# One notification of each type per job: the table's unique (job_id, type) key.
_ONCE_PER_JOB = ("job_id", "type")


# Postgres: the notifications (once per job and type) in one statement, compiled once, one array
# per column (`data` as JSON text); it answers the ids it wrote.
_ADD_MANY_PG = DriverStatement(
    text(
        """
        INSERT INTO notifications
            (id, user_id, type, title, message, data, job_id, created_at, read_at)
        SELECT id, user_id, type, title, message, CAST(data AS JSON), job_id, created_at, read_at
        FROM unnest(
            CAST(:ids AS VARCHAR[]), CAST(:user_ids AS VARCHAR[]), CAST(:types AS VARCHAR[]),
            CAST(:titles AS VARCHAR[]), CAST(:messages AS TEXT[]), CAST(:data AS TEXT[]),
            CAST(:job_ids AS VARCHAR[]), CAST(:created AS TIMESTAMP WITH TIME ZONE[]),
            CAST(:read AS TIMESTAMP WITH TIME ZONE[])
        ) AS n (id, user_id, type, title, message, data, job_id, created_at, read_at)
        ON CONFLICT (job_id, type) DO NOTHING
        RETURNING id
        """
    )
    .bindparams(
        *(
            bindparam(name, type_=ARRAY(String))
            for name in ("ids", "user_ids", "types", "titles", "messages", "data", "job_ids")
        ),
        bindparam("created", type_=ARRAY(_N.c.created_at.type)),
        bindparam("read", type_=ARRAY(_N.c.read_at.type)),
    )
    .columns(column("id", String))
)


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
        if notifications and self._dialect == "postgresql":
            rows = await self._uow.fetch(
                _ADD_MANY_PG,
                {
                    "ids": [n.id for n in notifications],
                    "user_ids": [n.user_id for n in notifications],
                    "types": [str(n.type) for n in notifications],
                    "titles": [n.title for n in notifications],
                    "messages": [n.message for n in notifications],
                    "data": [json.dumps(n.data or {}) for n in notifications],
                    "job_ids": [n.job_id for n in notifications],
                    "created": [n.created_at for n in notifications],
                    "read": [n.read_at for n in notifications],
                },
            )
            return {row.id for row in rows}
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
