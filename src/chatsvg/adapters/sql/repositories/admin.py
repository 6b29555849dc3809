"""The admin page: sign-in links and sessions, and its figures as aggregate queries (no row of
a job or user is loaded; the p95 reads at most two latencies)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, cast, desc, distinct, func, insert, literal, select, update

from chatsvg.adapters.sql import tables as t
from chatsvg.adapters.sql.repositories.base import SqlRepository
from chatsvg.application.ports.admin import AdminFigures
from chatsvg.domain.admin.access import AdminLink, AdminSession

_L = t.admin_links
_S = t.admin_sessions
_J = t.generation_jobs
_G = t.svg_generations


class SqlAdminLinks(SqlRepository):
    async def add(self, link: AdminLink) -> None:
        await self._c.execute(insert(_L).values(**link.__dict__))

    async def use(self, token_hash: str, now: datetime) -> str | None:
        # AdminLink.usable in SQL, as a compare-and-set: of two clicks, one spends it.
        email: str | None = (
            await self._c.execute(
                update(_L)
                .where(_L.c.token_hash == token_hash, _L.c.used_at.is_(None), _L.c.expires_at > now)
                .values(used_at=now)
                .returning(_L.c.email)
            )
        ).scalar()
        return email


class SqlAdminSessions(SqlRepository):
    async def add(self, session: AdminSession) -> None:
        await self._c.execute(insert(_S).values(**session.__dict__))

    async def get(self, token_hash: str) -> AdminSession | None:
        row = (await self._c.execute(select(_S).where(_S.c.token_hash == token_hash))).first()
        if row is None:
            return None
        return AdminSession(
            row.token_hash, row.email, row.created_at, row.expires_at, row.revoked_at
        )

    async def revoke(self, token_hash: str, now: datetime) -> None:
        await self._c.execute(
            update(_S)
            .where(_S.c.token_hash == token_hash, _S.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def _milliseconds_between(dialect: str, start: Any, end: Any) -> Any:
    if dialect == "postgresql":
        return func.extract("epoch", end - start) * 1000
    # SQLite keeps the datetimes as ISO text: julianday reads them, in days.
    return (func.julianday(end) - func.julianday(start)) * 86_400_000


class SqlAdminFigures(SqlRepository):
    async def figures(self, since: datetime, top: int) -> AdminFigures:
        dialect = self._uow.dialect
        answered = _J.c.ai_model.is_not(None)
        ai = (
            await self._c.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(_J.c.prompt_tokens), 0),
                    func.coalesce(func.sum(_J.c.completion_tokens), 0),
                    func.coalesce(func.sum(_J.c.model_latency_ms), 0),
                    func.coalesce(func.sum(case((_J.c.repaired.is_(True), 1), else_=0)), 0),
                    func.coalesce(func.sum(_J.c.cost_usd), 0.0),
                ).where(answered)
            )
        ).one()
        by_status = {
            status: int(count)
            for status, count in (
                await self._c.execute(select(_J.c.status, func.count()).group_by(_J.c.status))
            ).all()
        }
        duration = (
            await self._c.execute(
                select(
                    func.avg(
                        cast(
                            _milliseconds_between(dialect, _J.c.started_at, _J.c.finished_at),
                            Float,
                        )
                    )
                ).where(
                    _J.c.status == "SUCCEEDED",
                    _J.c.started_at.is_not(None),
                    _J.c.finished_at.is_not(None),
                )
            )
        ).scalar()
        recent = _J.c.created_at >= since
        active = (
            await self._c.execute(select(func.count(distinct(_J.c.user_id))).where(recent))
        ).scalar()
        generations = (
            await self._c.execute(select(func.count()).where(_G.c.created_at >= since))
        ).scalar()
        jobs = func.count().label("jobs")
        top_rows = (
            await self._c.execute(
                select(_J.c.user_id, jobs)
                .where(recent)
                .group_by(_J.c.user_id)
                .order_by(desc(jobs), _J.c.user_id)
                .limit(top)
            )
        ).all()
        return AdminFigures(
            ai_jobs=int(ai[0]),
            prompt_tokens=int(ai[1]),
            completion_tokens=int(ai[2]),
            latency_ms_total=int(ai[3]),
            p95_latency_ms=await self._p95(dialect, int(ai[0])),
            repaired_jobs=int(ai[4]),
            cost_usd=float(ai[5]),
            jobs_by_status=by_status,
            avg_duration_ms=float(duration or 0.0),
            active_users=int(active or 0),
            generations=int(generations or 0),
            top_generators=[(row.user_id, int(row.jobs)) for row in top_rows],
        )

    async def _p95(self, dialect: str, count: int) -> float:
        """percentile_cont(0.95) of the model latencies; on SQLite, which has none, the two
        closest ranks read by an ordered OFFSET query and interpolated the same way."""
        if count == 0:
            return 0.0
        latency = _J.c.model_latency_ms
        answered = _J.c.ai_model.is_not(None)
        if dialect == "postgresql":
            value = (
                await self._c.execute(
                    select(func.percentile_cont(0.95).within_group(latency)).where(answered)
                )
            ).scalar()
            return float(value or 0.0)
        position = 0.95 * (count - 1)
        low = int(position)
        values = [
            int(v or 0)
            for v in (
                await self._c.execute(
                    select(func.coalesce(latency, literal(0)))
                    .where(answered)
                    .order_by(latency)
                    .offset(low)
                    .limit(2)
                )
            ).scalars()
        ]
        if len(values) == 1:
            return float(values[0])
        return values[0] + (values[1] - values[0]) * (position - low)
