"""Generation jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, any_, bindparam, insert, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from chatsvg.adapters.sql import tables as t
from chatsvg.adapters.sql.driver_statement import DriverStatement
from chatsvg.adapters.sql.repositories.base import SqlRepository, newest_first
from chatsvg.adapters.sql.repositories.credits import reserved_cost
from chatsvg.application.ports import DuplicateIdempotencyKey, Position
from chatsvg.domain.generation.jobs import GenerationJob, JobSource, JobStatus
from chatsvg.domain.generation.usage import JobUsage

_J = t.generation_jobs
_FIELDS = [
    "id",
    "user_id",
    "prompt",
    "style",
    "model",
    "privacy",
    "cost",
    "status",
    "progress",
    "attempts",
    "charged",
    "refunded",
    "error_code",
    "error_message",
    "generation_id",
    "idempotency_key",
    "request_fingerprint",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "lease_expires_at",
    "source",
    "api_key_id",
    "variants",
    "parent_id",
]
# Every column but the key, as `v_<name>` parameters (a bound `id` would clash with the column).
_NEW_VALUES: dict[str, Any] = {name: bindparam(f"v_{name}") for name in _FIELDS if name != "id"}
# The job's usage (JobUsage) lives in columns of its own, all null until a model has answered.
_USAGE_COLUMNS = (
    "ai_model",
    "prompt_tokens",
    "completion_tokens",
    "model_latency_ms",
    "repaired",
    "cost_usd",
)
_NEW_VALUES.update({name: bindparam(f"v_{name}") for name in _USAGE_COLUMNS})


def _usage(row: Any) -> JobUsage | None:
    if row.ai_model is None:
        return None
    return JobUsage(
        model=row.ai_model,
        prompt_tokens=row.prompt_tokens or 0,
        completion_tokens=row.completion_tokens or 0,
        latency_ms=row.model_latency_ms or 0,
        repaired=bool(row.repaired),
        cost_usd=row.cost_usd or 0.0,
    )


def _usage_values(usage: JobUsage | None) -> dict[str, Any]:
    if usage is None:
        return dict.fromkeys(_USAGE_COLUMNS)
    return {
        "ai_model": usage.model,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "model_latency_ms": usage.latency_ms,
        "repaired": usage.repaired,
        "cost_usd": usage.cost_usd,
    }


def _job(row: Any) -> GenerationJob:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["status"] = JobStatus(values["status"])
    values["source"] = JobSource(values["source"])
    return GenerationJob(**values, usage=_usage(row))


def _values(job: GenerationJob) -> dict[str, Any]:
    values = {name: getattr(job, name) for name in _FIELDS}
    values.update(_usage_values(job.usage))
    values["status"] = job.status.value
    values["source"] = job.source.value
    return values


def _update_params(job: GenerationJob) -> dict[str, Any]:
    params = {f"v_{name}": value for name, value in _values(job).items() if name != "id"}
    params["job_id"] = job.id
    return params


# The hot statements are built once: constructing a SQLAlchemy statement (and its cache key) per
# call costs more CPU than executing it. Values travel as parameters.
_INSERT = insert(_J)
_BY_ID = select(_J).where(_J.c.id == bindparam("job_id"))

# The job, if its owner can afford it (domain `can_afford`: balance - reserved >= cost, where
# reserved is the cost of their QUEUED jobs not yet charged): the check and the insert in one
# statement. A missing user has no balance: the comparison is NULL and nothing is inserted.
_RESERVED = reserved_cost(_J.alias("queued"))
_BALANCE = select(t.users.c.credits).where(t.users.c.id == bindparam("user_id")).scalar_subquery()
_INSERT_COLUMNS = [*_FIELDS, *_USAGE_COLUMNS]
_INSERT_IF_AFFORDABLE = insert(_J).from_select(
    _INSERT_COLUMNS,
    select(*(bindparam(name, type_=_J.c[name].type) for name in _INSERT_COLUMNS)).where(
        bindparam("cost", type_=_J.c.cost.type) <= _BALANCE - _RESERVED
    ),
)
_INSERT_IF_AFFORDABLE_ALONE = DriverStatement(_INSERT_IF_AFFORDABLE)

# GenerationJob.claimable in SQL: QUEUED, or RUNNING with the lease run out. Rows are locked FOR
# NO KEY UPDATE (`key_share=True`), the lock an UPDATE of non-key columns takes anyway: a FOR
# UPDATE lock on a job or a user would also block the KEY SHARE locks that inserts referencing it
# take for their foreign keys (a recorded generation or notification), and a claim holding one
# user while waiting for another could deadlock with a finish holding the second's key share
# while inserting for the first. SKIP LOCKED leaves out a job another transaction is writing.
# Locks are taken in id order. (SQLite ignores FOR UPDATE: one writer at a time holds everything.)
_CLAIMABLE = or_(
    _J.c.status == JobStatus.QUEUED.value,
    and_(
        _J.c.status == JobStatus.RUNNING.value,
        or_(_J.c.lease_expires_at.is_(None), _J.c.lease_expires_at <= bindparam("now")),
    ),
)
_HOLD_CLAIMABLE = (
    select(_J)
    .where(_J.c.id.in_(bindparam("job_ids", expanding=True)), _CLAIMABLE)
    .order_by(_J.c.id)
    .with_for_update(skip_locked=True, key_share=True)
)
# The same lock, waiting for a job another transaction is writing.
_HOLD = (
    select(_J)
    .where(_J.c.id.in_(bindparam("job_ids", expanding=True)))
    .order_by(_J.c.id)
    .with_for_update(key_share=True)
)
# On Postgres the ids travel as one array (`= ANY($1)`), so each statement is compiled once and
# runs on the driver's connection inside the claim's or the finish's transaction
# (SqlUnitOfWork.fetch): SQLAlchemy's execution cost more CPU than the statement (docs/
# performance.md, eleventh round).
_IDS = ARRAY(_J.c.id.type)
_HOLD_CLAIMABLE_PG = DriverStatement(
    select(_J)
    .where(_J.c.id == any_(bindparam("job_ids", type_=_IDS)), _CLAIMABLE)
    .order_by(_J.c.id)
    .with_for_update(skip_locked=True, key_share=True)
)
_HOLD_PG = DriverStatement(
    select(_J)
    .where(_J.c.id == any_(bindparam("job_ids", type_=_IDS)))
    .order_by(_J.c.id)
    .with_for_update(key_share=True)
)
# The statuses that are not `terminal` (domain), as stored.
_UNFINISHED = tuple(s.value for s in JobStatus if not s.terminal)
# Held rows cannot change under the transaction: no compare-and-set needed.
_SAVE_HELD = DriverStatement(update(_J).where(_J.c.id == bindparam("job_id")).values(_NEW_VALUES))
_SAVE_IF = (
    update(_J)
    .where(
        _J.c.id == bindparam("job_id"),
        _J.c.status == bindparam("expected_status"),
        _J.c.attempts == bindparam("expected_attempts"),
    )
    .values(_NEW_VALUES)
)


class SqlJobs(SqlRepository):
    async def add(self, job: GenerationJob) -> None:
        # No savepoint: a duplicate key ends the caller's transaction, which then reads the winner's
        # job in a new one (GenerationService.submit).
        try:
            await self._c.execute(_INSERT, _values(job))
        except IntegrityError:
            raise DuplicateIdempotencyKey(job.idempotency_key) from None

    async def add_affordable_and_commit(self, job: GenerationJob) -> tuple[int, int] | None:
        """One INSERT ... SELECT ... WHERE the owner can afford it. When it is the unit of work's
        first write (the usual case: only reads before it), it runs on its own, atomic as any
        statement, and commits with no BEGIN or COMMIT around it: one round trip."""
        try:
            if self._uow.begins_nothing_yet():
                # On asyncpg's own connection: SQLAlchemy's execution around one statement
                # costs three times asyncpg's (adapters/sql/driver_statement.py).
                inserted = await self._uow.run_alone(_INSERT_IF_AFFORDABLE_ALONE, _values(job))
            else:
                result = await self._c.execute(_INSERT_IF_AFFORDABLE, _values(job))
                inserted = result.rowcount
                await self._uow.commit()
        except IntegrityError:
            raise DuplicateIdempotencyKey(job.idempotency_key) from None
        if inserted == 1:
            return None
        return await self._uow.ledger.balance_and_reserved(job.user_id)

    async def get(self, job_id: str) -> GenerationJob | None:
        row = (await self._c.execute(_BY_ID, {"job_id": job_id})).first()
        return _job(row) if row else None

    async def hold_claimable(self, job_ids: list[str], now: datetime) -> list[GenerationJob]:
        """SELECT ... FOR NO KEY UPDATE SKIP LOCKED of the claimable jobs, in id order."""
        if not job_ids:
            return []
        params = {"job_ids": sorted(set(job_ids)), "now": now}
        if self._dialect == "postgresql":
            rows = await self._uow.fetch(_HOLD_CLAIMABLE_PG, params)
        else:
            rows = list(await self._c.execute(_HOLD_CLAIMABLE, params))
        return [_job(row) for row in rows]

    async def hold(self, job_ids: list[str]) -> list[GenerationJob]:
        """SELECT ... FOR NO KEY UPDATE (waiting), in id order."""
        if not job_ids:
            return []
        params = {"job_ids": sorted(set(job_ids))}
        if self._dialect == "postgresql":
            rows = await self._uow.fetch(_HOLD_PG, params)
        else:
            rows = list(await self._c.execute(_HOLD, params))
        return [_job(row) for row in rows]

    async def save_held(self, jobs: list[GenerationJob]) -> None:
        """One executemany UPDATE by id: the row locks are the compare-and-set."""
        if jobs:
            await self._uow.execute_many(_SAVE_HELD, [_update_params(job) for job in jobs])

    async def by_idempotency_key(self, user_id: str, key: str) -> GenerationJob | None:
        row = (
            await self._c.execute(
                select(_J).where(_J.c.user_id == user_id, _J.c.idempotency_key == key)
            )
        ).first()
        return _job(row) if row else None

    async def save(
        self, job: GenerationJob, *, expected_status: JobStatus, expected_attempts: int
    ) -> bool:
        params = _update_params(job)
        params.update(expected_status=expected_status.value, expected_attempts=expected_attempts)
        result = await self._c.execute(_SAVE_IF, params)
        return bool(result.rowcount == 1)

    async def list_for_user(
        self, user_id: str, *, status: JobStatus | None, limit: int, before: Position | None
    ) -> list[GenerationJob]:
        stmt = select(_J).where(_J.c.user_id == user_id)
        if status is not None:
            stmt = stmt.where(_J.c.status == status.value)
        return [_job(r) for r in await self._c.execute(newest_first(stmt, _J, before, limit))]

    async def needing_attention(
        self, now: datetime, queued_before: datetime, limit: int
    ) -> list[GenerationJob]:
        stmt = (
            select(_J)
            .where(
                or_(
                    and_(_J.c.status == JobStatus.RUNNING.value, _J.c.lease_expires_at <= now),
                    and_(_J.c.status == JobStatus.QUEUED.value, _J.c.updated_at <= queued_before),
                )
            )
            .order_by(_J.c.updated_at)
            .limit(limit)
        )
        return [_job(r) for r in await self._c.execute(stmt)]

    async def live_for_user(
        self, user_id: str, *, finished_since: datetime, limit: int
    ) -> list[GenerationJob]:
        stmt = (
            select(_J)
            .where(
                _J.c.user_id == user_id,
                or_(
                    _J.c.status.in_(_UNFINISHED),
                    _J.c.finished_at >= finished_since,
                ),
            )
            .order_by(_J.c.created_at.desc(), _J.c.id.desc())
            .limit(limit)
        )
        return [_job(r) for r in await self._c.execute(stmt)]
