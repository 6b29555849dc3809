"""Repositories and the unit of work over SQLAlchemy Core (async). One connection, one transaction."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    bindparam,
    column,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
    values,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    create_async_engine,
)

from chatsvg.adapters.sql import tables as t
from chatsvg.application.ports import DuplicateIdempotencyKey, Position
from chatsvg.domain.accounts.auth import PasswordResetToken, RefreshToken, RefreshTokenFamily
from chatsvg.domain.accounts.users import User
from chatsvg.domain.credits.ledger import LedgerEntry
from chatsvg.domain.errors import EmailTaken, InsufficientCredits
from chatsvg.domain.generation.generations import SvgGeneration
from chatsvg.domain.generation.jobs import GenerationJob, JobStatus
from chatsvg.domain.notifications.notifications import Notification


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    pool_timeout: float = 30.0,
    ping_after_idle: float = 10.0,
    echo: bool = False,
) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, open transactions, so SAVEPOINTs work (SQLAlchemy's recipe).
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No overflow: Postgres connections are a shared, bounded resource; waiting for one is cheaper
    # than opening more.
    engine = create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout
    )
    _ping_idle_connections(engine, ping_after_idle)
    return engine


def _ping_idle_connections(engine: AsyncEngine, idle_seconds: float) -> None:
    """Replace connections Postgres dropped (a restart, a failover, an idle timeout) before they
    are used, like `pool_pre_ping`, but only for connections that sat in the pool for more than
    `idle_seconds`. pool_pre_ping pays a round trip on every checkout: one of the five a prompt
    submission makes, two of a job's twelve. A connection in steady use is known to be alive;
    one that breaks between two uses (the server goes away mid-load) fails its statement, and
    SQLAlchemy then discards every connection of the pool opened before the failure, so only
    work already in flight sees the error. This is SQLAlchemy's documented pessimistic recipe
    (a `checkout` listener raising DisconnectionError: the pool reconnects and checks out again).
    """
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "checkin")
    def _stamp(_dbapi_conn: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return  # just opened, or in use a moment ago
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError("connection dropped while idle in the pool") from exc


def _before(columns: tuple[Any, Any], before: Position | None) -> Any:
    if before is None:
        return None
    return tuple_(*columns) < tuple_(before[0], before[1])


def _page(stmt: Select[Any], table: Any, before: Position | None, limit: int) -> Select[Any]:
    cond = _before((table.c.created_at, table.c.id), before)
    if cond is not None:
        stmt = stmt.where(cond)
    return stmt.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit)


class _Repo:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    @property
    def _c(self) -> AsyncConnection:
        return self._uow.connection

    async def _insert_reporting(
        self, table: Any, unique: tuple[str, ...], rows: list[dict[str, Any]]
    ) -> set[str]:
        """Insert rows, those tied to a job (`job_id` set) once per `unique` key: the ids written."""
        once = [row for row in rows if row["job_id"] is not None]
        plain = [row for row in rows if row["job_id"] is None]
        written: set[str] = set()
        if once:
            stmt = self._uow.insert_once(table, unique, returning=True)
            written.update((await self._c.execute(stmt, once)).scalars())
        if plain:
            await self._c.execute(insert(table), plain)
            written.update(row["id"] for row in plain)
        return written


def _user(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        password_hash=row.password_hash,
        avatar=row.avatar,
        plan=row.plan,
        created_at=row.created_at,
        email_verified=row.email_verified,
        notifications_seen_at=row.notifications_seen_at,
    )


class SqlUsers(_Repo):
    async def add(self, user: User) -> None:
        try:
            async with self._c.begin_nested():
                await self._c.execute(
                    insert(t.users).values(
                        id=user.id,
                        email=user.email,
                        name=user.name,
                        password_hash=user.password_hash,
                        avatar=user.avatar,
                        plan=user.plan,
                        email_verified=user.email_verified,
                        credits=0,
                        created_at=user.created_at,
                        notifications_seen_at=user.notifications_seen_at,
                    )
                )
        except IntegrityError:
            raise EmailTaken() from None

    async def get(self, user_id: str) -> User | None:
        row = (await self._c.execute(select(t.users).where(t.users.c.id == user_id))).first()
        return _user(row) if row else None

    async def by_email(self, email: str) -> User | None:
        row = (await self._c.execute(select(t.users).where(t.users.c.email == email))).first()
        return _user(row) if row else None

    async def update(self, user: User) -> None:
        await self._c.execute(
            update(t.users)
            .where(t.users.c.id == user.id)
            .values(
                name=user.name,
                password_hash=user.password_hash,
                avatar=user.avatar,
                plan=user.plan,
                email_verified=user.email_verified,
                notifications_seen_at=user.notifications_seen_at,
            )
        )

    async def delete(self, user_id: str) -> None:
        await self._c.execute(delete(t.users).where(t.users.c.id == user_id))


def _family(row: Any) -> RefreshTokenFamily:
    return RefreshTokenFamily(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        remember_me=row.remember_me,
        revoked_at=row.revoked_at,
        user_agent=row.user_agent,
        ip_address=row.ip_address,
    )


class SqlSessions(_Repo):
    async def add_family(self, family: RefreshTokenFamily) -> None:
        await self._c.execute(insert(t.refresh_families).values(**family.__dict__))

    async def get_family(self, family_id: str) -> RefreshTokenFamily | None:
        row = (await self._c.execute(_FAMILY_BY_ID, {"family_id": family_id})).first()
        return _family(row) if row else None

    async def update_family(self, family: RefreshTokenFamily) -> None:
        values = {k: v for k, v in family.__dict__.items() if k != "id"}
        await self._c.execute(
            update(t.refresh_families).where(t.refresh_families.c.id == family.id).values(**values)
        )

    async def live_families(self, user_id: str, now: datetime) -> list[RefreshTokenFamily]:
        f = t.refresh_families
        rows = await self._c.execute(
            select(f).where(f.c.user_id == user_id, f.c.revoked_at.is_(None), f.c.expires_at > now)
        )
        return [_family(r) for r in rows]

    async def revoke_all(
        self, user_id: str, now: datetime, *, keep: str | None = None
    ) -> list[str]:
        f = t.refresh_families
        cond = [f.c.user_id == user_id, f.c.revoked_at.is_(None)]
        if keep is not None:
            cond.append(f.c.id != keep)
        ids = [r.id for r in await self._c.execute(select(f.c.id).where(*cond))]
        if ids:
            await self._c.execute(update(f).where(f.c.id.in_(ids)).values(revoked_at=now))
        return ids

    async def add_token(self, token: RefreshToken) -> None:
        await self._c.execute(insert(t.refresh_tokens).values(**token.__dict__))

    async def get_token(self, token_hash: str) -> RefreshToken | None:
        row = (
            await self._c.execute(
                select(t.refresh_tokens).where(t.refresh_tokens.c.token_hash == token_hash)
            )
        ).first()
        return (
            RefreshToken(row.token_hash, row.family_id, row.created_at, row.spent_at)
            if row
            else None
        )

    async def spend_token(self, token_hash: str, now: datetime) -> bool:
        tok = t.refresh_tokens
        result = await self._c.execute(
            update(tok)
            .where(tok.c.token_hash == token_hash, tok.c.spent_at.is_(None))
            .values(spent_at=now)
        )
        return bool(result.rowcount == 1)


class SqlResetTokens(_Repo):
    async def add(self, token: PasswordResetToken) -> None:
        await self._c.execute(insert(t.password_reset_tokens).values(**token.__dict__))

    async def get(self, token_hash: str) -> PasswordResetToken | None:
        r = t.password_reset_tokens
        row = (await self._c.execute(select(r).where(r.c.token_hash == token_hash))).first()
        if row is None:
            return None
        return PasswordResetToken(
            row.token_hash, row.user_id, row.created_at, row.expires_at, row.used_at
        )

    async def use(self, token_hash: str, now: datetime) -> bool:
        r = t.password_reset_tokens
        result = await self._c.execute(
            update(r)
            .where(r.c.token_hash == token_hash, r.c.used_at.is_(None), r.c.expires_at > now)
            .values(used_at=now)
        )
        return bool(result.rowcount == 1)

    async def retire_all(self, user_id: str, now: datetime) -> None:
        r = t.password_reset_tokens
        await self._c.execute(
            update(r).where(r.c.user_id == user_id, r.c.used_at.is_(None)).values(used_at=now)
        )


_JOB_FIELDS = [
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
]


# The claimable jobs are GenerationJob.claimable in SQL (QUEUED, or RUNNING with the lease run out).
# Row locks are FOR NO KEY UPDATE (`key_share=True`), what an UPDATE of non-key columns takes
# anyway: a FOR UPDATE lock on a user or a job would also block the KEY SHARE locks that inserts
# referencing it take for their foreign keys (a submitted job, a recorded generation or
# notification), and a claim holding one user while waiting for another could deadlock with a
# finish holding the second's key share while inserting for the first.
# Hot statements are built once: constructing a SQLAlchemy statement (and its cache key) per call
# cost more CPU than executing it. Values travel as parameters.
_J = t.generation_jobs
_JOB_BY_ID = select(_J).where(_J.c.id == bindparam("job_id"))
_JOB_INSERT = insert(_J)
_PENDING_COST = select(func.coalesce(func.sum(_J.c.cost), 0)).where(
    _J.c.user_id == bindparam("user_id"),
    _J.c.status == JobStatus.QUEUED.value,
    _J.c.charged.is_(False),
)
_JOB_SAVE = (
    update(_J)
    .where(
        _J.c.id == bindparam("job_id"),
        _J.c.status == bindparam("expected_status"),
        _J.c.attempts == bindparam("expected_attempts"),
    )
    .values({name: bindparam(f"v_{name}") for name in _JOB_FIELDS if name != "id"})
)
_JOBS_CLAIMABLE = (
    select(_J)
    .where(
        _J.c.id.in_(bindparam("job_ids", expanding=True)),
        or_(
            _J.c.status == JobStatus.QUEUED.value,
            and_(
                _J.c.status == JobStatus.RUNNING.value,
                or_(_J.c.lease_expires_at.is_(None), _J.c.lease_expires_at <= bindparam("now")),
            ),
        ),
    )
    .order_by(_J.c.id)
    .with_for_update(skip_locked=True, key_share=True)
)
_JOBS_LOCKED = (
    select(_J)
    .where(_J.c.id.in_(bindparam("job_ids", expanding=True)))
    .order_by(_J.c.id)
    .with_for_update(key_share=True)
)
_JOB_SAVE_LOCKED = (
    update(_J)
    .where(_J.c.id == bindparam("job_id"))
    .values({name: bindparam(f"v_{name}") for name in _JOB_FIELDS if name != "id"})
)


def _job(row: Any) -> GenerationJob:
    values = {name: getattr(row, name) for name in _JOB_FIELDS}
    values["status"] = JobStatus(values["status"])
    return GenerationJob(**values)


def _job_values(job: GenerationJob) -> dict[str, Any]:
    values = {name: getattr(job, name) for name in _JOB_FIELDS}
    values["status"] = job.status.value
    return values


class SqlJobs(_Repo):
    async def add(self, job: GenerationJob) -> None:
        # No savepoint: a duplicate key ends the caller's transaction, which then reads the winner's
        # job in a new one (GenerationService.submit).
        try:
            await self._c.execute(_JOB_INSERT, _job_values(job))
        except IntegrityError:
            raise DuplicateIdempotencyKey(job.idempotency_key) from None

    async def get(self, job_id: str) -> GenerationJob | None:
        row = (await self._c.execute(_JOB_BY_ID, {"job_id": job_id})).first()
        return _job(row) if row else None

    async def hold_claimable(self, job_ids: list[str], now: datetime) -> list[GenerationJob]:
        """SELECT ... FOR NO KEY UPDATE SKIP LOCKED of the claimable jobs, in id order."""
        if not job_ids:
            return []
        rows = await self._c.execute(_JOBS_CLAIMABLE, {"job_ids": sorted(set(job_ids)), "now": now})
        return [_job(row) for row in rows]

    async def hold(self, job_ids: list[str]) -> list[GenerationJob]:
        if not job_ids:
            return []
        rows = await self._c.execute(_JOBS_LOCKED, {"job_ids": sorted(set(job_ids))})
        return [_job(row) for row in rows]

    async def save_held(self, jobs: list[GenerationJob]) -> None:
        if not jobs:
            return
        params = []
        for job in jobs:
            row = {f"v_{name}": value for name, value in _job_values(job).items() if name != "id"}
            row["job_id"] = job.id
            params.append(row)
        await self._c.execute(_JOB_SAVE_LOCKED, params)

    async def by_idempotency_key(self, user_id: str, key: str) -> GenerationJob | None:
        j = t.generation_jobs
        row = (
            await self._c.execute(
                select(j).where(j.c.user_id == user_id, j.c.idempotency_key == key)
            )
        ).first()
        return _job(row) if row else None

    async def save(
        self, job: GenerationJob, *, expected_status: JobStatus, expected_attempts: int
    ) -> bool:
        params = {f"v_{name}": value for name, value in _job_values(job).items() if name != "id"}
        params.update(
            job_id=job.id,
            expected_status=expected_status.value,
            expected_attempts=expected_attempts,
        )
        result = await self._c.execute(_JOB_SAVE, params)
        return bool(result.rowcount == 1)

    async def list_for_user(
        self, user_id: str, *, status: JobStatus | None, limit: int, before: Position | None
    ) -> list[GenerationJob]:
        j = t.generation_jobs
        stmt = select(j).where(j.c.user_id == user_id)
        if status is not None:
            stmt = stmt.where(j.c.status == status.value)
        return [_job(r) for r in await self._c.execute(_page(stmt, j, before, limit))]

    async def needing_attention(
        self, now: datetime, queued_before: datetime, limit: int
    ) -> list[GenerationJob]:
        j = t.generation_jobs
        stmt = (
            select(j)
            .where(
                or_(
                    and_(j.c.status == JobStatus.RUNNING.value, j.c.lease_expires_at <= now),
                    and_(j.c.status == JobStatus.QUEUED.value, j.c.updated_at <= queued_before),
                )
            )
            .order_by(j.c.updated_at)
            .limit(limit)
        )
        return [_job(r) for r in await self._c.execute(stmt)]

    async def live_for_user(
        self, user_id: str, *, finished_since: datetime, limit: int
    ) -> list[GenerationJob]:
        j = t.generation_jobs
        stmt = (
            select(j)
            .where(
                j.c.user_id == user_id,
                or_(
                    j.c.status.in_((JobStatus.QUEUED.value, JobStatus.RUNNING.value)),
                    j.c.finished_at >= finished_since,
                ),
            )
            .order_by(j.c.created_at.desc(), j.c.id.desc())
            .limit(limit)
        )
        return [_job(r) for r in await self._c.execute(stmt)]

    async def delete_for_user(self, user_id: str) -> None:
        await self._c.execute(
            delete(t.generation_jobs).where(t.generation_jobs.c.user_id == user_id)
        )


_GEN_FIELDS = [
    "id",
    "user_id",
    "job_id",
    "prompt",
    "style",
    "model",
    "privacy",
    "storage_key",
    "size_bytes",
    "created_at",
]


def _generation(row: Any) -> SvgGeneration:
    return SvgGeneration(**{name: getattr(row, name) for name in _GEN_FIELDS})


class SqlGenerations(_Repo):
    async def add(self, generation: SvgGeneration) -> None:
        await self._c.execute(_GENERATION_INSERT, {n: getattr(generation, n) for n in _GEN_FIELDS})

    async def add_many(self, generations: list[SvgGeneration]) -> None:
        if generations:
            await self._c.execute(
                _GENERATION_INSERT,
                [{n: getattr(generation, n) for n in _GEN_FIELDS} for generation in generations],
            )

    async def get(self, generation_id: str) -> SvgGeneration | None:
        g = t.svg_generations
        row = (await self._c.execute(select(g).where(g.c.id == generation_id))).first()
        return _generation(row) if row else None

    async def get_many(self, generation_ids: list[str]) -> list[SvgGeneration]:
        if not generation_ids:
            return []
        g = t.svg_generations
        return [
            _generation(r)
            for r in await self._c.execute(select(g).where(g.c.id.in_(generation_ids)))
        ]

    async def update(self, generation: SvgGeneration) -> None:
        g = t.svg_generations
        await self._c.execute(
            update(g).where(g.c.id == generation.id).values(privacy=generation.privacy)
        )

    async def delete(self, generation_id: str) -> None:
        await self._c.execute(
            delete(t.svg_generations).where(t.svg_generations.c.id == generation_id)
        )

    async def list_for_user(
        self,
        user_id: str,
        *,
        limit: int,
        before: Position | None,
        style: str | None = None,
        model: str | None = None,
        privacy: bool | None = None,
    ) -> list[SvgGeneration]:
        g = t.svg_generations
        stmt = select(g).where(g.c.user_id == user_id)
        if style:
            stmt = stmt.where(g.c.style == style)
        if model:
            stmt = stmt.where(g.c.model == model)
        if privacy is not None:
            stmt = stmt.where(g.c.privacy.is_(privacy))
        return [_generation(r) for r in await self._c.execute(_page(stmt, g, before, limit))]

    async def list_public(
        self,
        *,
        limit: int,
        before: Position | None,
        style: str | None = None,
        model: str | None = None,
    ) -> list[SvgGeneration]:
        g = t.svg_generations
        stmt = select(g).where(g.c.privacy.is_(False))
        if style:
            stmt = stmt.where(g.c.style == style)
        if model:
            stmt = stmt.where(g.c.model == model)
        return [_generation(r) for r in await self._c.execute(_page(stmt, g, before, limit))]

    async def keys_for_user(self, user_id: str) -> list[str]:
        g = t.svg_generations
        return [
            r.storage_key
            for r in await self._c.execute(select(g.c.storage_key).where(g.c.user_id == user_id))
        ]

    async def all_keys(self) -> list[str]:
        g = t.svg_generations
        return [r.storage_key for r in await self._c.execute(select(g.c.storage_key))]


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(row.id, row.user_id, row.delta, row.reason, row.job_id, row.created_at)


_U = t.users
_BALANCE = select(_U.c.credits).where(_U.c.id == bindparam("user_id"))
_BALANCE_AND_RESERVED = select(_U.c.credits, _PENDING_COST.scalar_subquery()).where(
    _U.c.id == bindparam("user_id")
)
_CREDIT = (
    update(_U)
    .where(_U.c.id == bindparam("user_id"))
    .values(credits=_U.c.credits + bindparam("delta"))
)
_DEBIT = (
    update(_U)
    .where(_U.c.id == bindparam("user_id"), _U.c.credits + bindparam("delta") >= 0)
    .values(credits=_U.c.credits + bindparam("delta"))
)
_BALANCES_LOCKED = (
    select(_U.c.id, _U.c.credits)
    .where(_U.c.id.in_(bindparam("user_ids", expanding=True)))
    .order_by(_U.c.id)
    .with_for_update(key_share=True)
)
_FAMILY_BY_ID = select(t.refresh_families).where(t.refresh_families.c.id == bindparam("family_id"))
_GENERATION_INSERT = insert(t.svg_generations)


class SqlLedger(_Repo):
    """The balance column on users is a running total of the ledger, moved only here, in the same
    transaction as the entry, and never below zero (the update is conditional)."""

    async def balance(self, user_id: str) -> int:
        value = await self._c.scalar(_BALANCE, {"user_id": user_id})
        return int(value or 0)

    async def balance_and_reserved(self, user_id: str) -> tuple[int, int]:
        row = (await self._c.execute(_BALANCE_AND_RESERVED, {"user_id": user_id})).first()
        return (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)

    async def append(self, entry: LedgerEntry) -> bool:
        moved = await self._c.execute(
            _DEBIT if entry.delta < 0 else _CREDIT, {"user_id": entry.user_id, "delta": entry.delta}
        )
        if moved.rowcount != 1:
            raise InsufficientCredits()
        stmt = (
            self._uow.insert_once(t.credit_ledger, ("job_id", "reason"))
            if entry.job_id
            else insert(t.credit_ledger)
        )
        inserted = await self._c.execute(stmt, entry.__dict__)
        if inserted.rowcount != 1:
            await self._c.execute(_CREDIT, {"user_id": entry.user_id, "delta": -entry.delta})
            return False
        return True

    async def hold_balances(self, user_ids: set[str]) -> dict[str, int]:
        if not user_ids:
            return {}
        rows = await self._c.execute(_BALANCES_LOCKED, {"user_ids": sorted(user_ids)})
        return {row.id: int(row.credits or 0) for row in rows}

    async def append_many(self, entries: list[LedgerEntry]) -> set[str]:
        """Entries first (once per job and reason), then one balance move per user for what was
        written, conditional on not going below zero: on Postgres one statement for all users."""
        if not entries:
            return set()
        written = await self._insert_reporting(
            t.credit_ledger, ("job_id", "reason"), [e.__dict__ for e in entries]
        )
        deltas: dict[str, int] = {}
        for entry in entries:
            if entry.id in written:
                deltas[entry.user_id] = deltas.get(entry.user_id, 0) + entry.delta
        moves = sorted((user, delta) for user, delta in deltas.items() if delta)
        if not moves:
            return written
        if self._uow.dialect == "postgresql":
            v = values(column("user_id", String), column("delta", Integer), name="moves").data(
                moves
            )
            moved = await self._c.execute(
                update(_U)
                .where(_U.c.id == v.c.user_id, _U.c.credits + v.c.delta >= 0)
                .values(credits=_U.c.credits + v.c.delta)
                .returning(_U.c.id)
            )
            if len(moved.all()) != len(moves):
                raise InsufficientCredits()
        else:
            for user_id, delta in moves:
                moved = await self._c.execute(
                    _DEBIT if delta < 0 else _CREDIT, {"user_id": user_id, "delta": delta}
                )
                if moved.rowcount != 1:
                    raise InsufficientCredits()
        return written

    async def entries(
        self, user_id: str, *, limit: int, before: Position | None
    ) -> list[LedgerEntry]:
        c = t.credit_ledger
        return [
            _entry(r)
            for r in await self._c.execute(
                _page(select(c).where(c.c.user_id == user_id), c, before, limit)
            )
        ]

    async def for_job(self, job_id: str) -> list[LedgerEntry]:
        c = t.credit_ledger
        return [_entry(r) for r in await self._c.execute(select(c).where(c.c.job_id == job_id))]


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


class SqlNotifications(_Repo):
    async def add(self, notification: Notification) -> bool:
        if notification.job_id is not None:
            stmt = self._uow.insert_once(t.notifications, ("job_id", "type"))
        else:
            stmt = insert(t.notifications)
        result = await self._c.execute(stmt, notification.__dict__)
        return bool(result.rowcount == 1)

    async def add_many(self, notifications: list[Notification]) -> set[str]:
        return await self._insert_reporting(
            t.notifications, ("job_id", "type"), [n.__dict__ for n in notifications]
        )

    async def latest(
        self, user_id: str, *, limit: int, before: Position | None
    ) -> list[Notification]:
        n = t.notifications
        return [
            _notification(r)
            for r in await self._c.execute(
                _page(select(n).where(n.c.user_id == user_id), n, before, limit)
            )
        ]

    async def unread_count(self, user_id: str, since: datetime | None) -> int:
        n = t.notifications
        stmt = select(func.count()).select_from(n).where(n.c.user_id == user_id)
        if since is not None:
            stmt = stmt.where(n.c.created_at > since)
        return int(await self._c.scalar(stmt) or 0)


_INSERT_ONCE: dict[tuple[str, str, tuple[str, ...], bool], Any] = {}


class SqlUnitOfWork:
    def __init__(self, engine: AsyncEngine, lock: asyncio.Lock | None = None) -> None:
        self._engine = engine
        self._lock = lock
        self.dialect = engine.dialect.name
        self._conn: AsyncConnection | None = None
        self.users = SqlUsers(self)
        self.sessions = SqlSessions(self)
        self.reset_tokens = SqlResetTokens(self)
        self.jobs = SqlJobs(self)
        self.generations = SqlGenerations(self)
        self.ledger = SqlLedger(self)
        self.notifications = SqlNotifications(self)

    def insert_once(self, table: Any, unique: tuple[str, ...], *, returning: bool = False) -> Any:
        """INSERT ... ON CONFLICT (unique) DO NOTHING for this dialect, built once per table;
        with `returning`, the statement answers the ids of the rows it wrote."""
        key = (self.dialect, table.name, unique, returning)
        stmt = _INSERT_ONCE.get(key)
        if stmt is None:
            dialect = postgresql if self.dialect == "postgresql" else sqlite
            stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=list(unique))
            if returning:
                stmt = stmt.returning(table.c.id)
            _INSERT_ONCE[key] = stmt
        return stmt

    @property
    def connection(self) -> AsyncConnection:
        assert self._conn is not None, "use the unit of work as `async with`"
        return self._conn

    async def __aenter__(self) -> Self:
        if self._lock is not None:
            await self._lock.acquire()
        try:
            self._conn = await self._engine.connect()
            await self._conn.begin()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._conn is not None:
                if exc_type is not None and issubclass(exc_type, asyncio.CancelledError):
                    # Cancelled mid-statement (a client went away, a shutdown): the driver may still
                    # be busy on this connection, so it must never go back to the pool.
                    await asyncio.shield(self._conn.invalidate())
                else:
                    if self._conn.in_transaction():
                        await self._conn.rollback()
                    await self._conn.close()
        finally:
            self._conn = None
            if self._lock is not None:
                self._lock.release()

    async def commit(self) -> None:
        await self.connection.commit()
        # A read after this commit (in the same block) begins a new transaction by itself.


class SqlDatabase:
    """The engine and the unit-of-work factory. SQLite serialises writers; so do we, to avoid lock errors."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        pool_timeout: float = 30.0,
        ping_after_idle: float = 10.0,
    ) -> None:
        self.url = url
        self.engine = make_engine(
            url, pool_size=pool_size, pool_timeout=pool_timeout, ping_after_idle=ping_after_idle
        )
        self._lock: asyncio.Lock | None = asyncio.Lock() if url.startswith("sqlite") else None

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self._lock)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(select(1))

    async def warm(self, connections: int | None = None) -> None:
        """Open the pool's connections now (all of them by default), not during the first burst
        of work, where each connect would delay a request or a job by a handshake."""
        if self._lock is not None:
            await self.ping()
            return
        wanted = connections if connections is not None else self.engine.pool.size()  # type: ignore[attr-defined]
        opened = [await self.engine.connect() for _ in range(max(1, wanted))]
        try:
            for conn in opened:
                await conn.execute(select(1))
        finally:
            for conn in opened:
                await conn.close()

    async def dispose(self) -> None:
        await self.engine.dispose()
