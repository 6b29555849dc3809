"""Credits: the ledger and the balances it moves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Integer,
    String,
    any_,
    bindparam,
    column,
    func,
    insert,
    select,
    text,
    update,
    values,
)
from sqlalchemy.dialects.postgresql import ARRAY

from chatsvg.adapters.sql import tables as t
from chatsvg.adapters.sql.driver_statement import DriverStatement
from chatsvg.adapters.sql.repositories.base import SqlRepository, insert_once, newest_first
from chatsvg.application.ports import Position
from chatsvg.domain.credits.ledger import LedgerEntry
from chatsvg.domain.errors import InsufficientCredits

_U = t.users
_L = t.credit_ledger
_J = t.generation_jobs
# One charge and one refund per job: the ledger's unique (job_id, reason) key.
_ONCE_PER_JOB = ("job_id", "reason")

# Read or run on every submission and claim: built once, values as parameters.
_BALANCE = select(_U.c.credits).where(_U.c.id == bindparam("user_id"))


def reserved_cost(jobs: Any) -> Any:
    """The credits the user `:user_id` has reserved (domain `can_afford`): the cost of their
    QUEUED jobs not charged yet, as a scalar subquery over `jobs` (the jobs table or an alias)."""
    return (
        select(func.coalesce(func.sum(jobs.c.cost), 0))
        .where(jobs.c.user_id == bindparam("user_id"), t.reserving(jobs))
        .scalar_subquery()
    )


_BALANCE_AND_RESERVED = select(_U.c.credits, reserved_cost(_J)).where(
    _U.c.id == bindparam("user_id")
)
_CREDIT = (
    update(_U)
    .where(_U.c.id == bindparam("user_id"))
    .values(credits=_U.c.credits + bindparam("delta"))
)
# Conditional: a balance never goes below zero.
_DEBIT = (
    update(_U)
    .where(_U.c.id == bindparam("user_id"), _U.c.credits + bindparam("delta") >= 0)
    .values(credits=_U.c.credits + bindparam("delta"))
)
# FOR NO KEY UPDATE in user id order; see jobs.py for why not FOR UPDATE.
_HOLD_BALANCES = (
    select(_U.c.id, _U.c.credits)
    .where(_U.c.id.in_(bindparam("user_ids", expanding=True)))
    .order_by(_U.c.id)
    .with_for_update(key_share=True)
)
_HOLD_BALANCES_PG = DriverStatement(
    select(_U.c.id, _U.c.credits)
    .where(_U.c.id == any_(bindparam("user_ids", type_=ARRAY(_U.c.id.type))))
    .order_by(_U.c.id)
    .with_for_update(key_share=True)
)
# Postgres: the entries (once per job and reason) and the balance moves for what was written, in
# one statement and one round trip, compiled once: the entries travel as one array per column.
# `moves` counts the users whose balance has to move, `moved` those whose balance did (it may not
# go below zero): fewer moved than moves is InsufficientCredits, and the caller's transaction is
# not committed.
_APPEND_PG = DriverStatement(
    text(
        """
        WITH entry AS (
            SELECT * FROM unnest(
                CAST(:ids AS VARCHAR[]), CAST(:user_ids AS VARCHAR[]), CAST(:deltas AS INTEGER[]),
                CAST(:reasons AS VARCHAR[]), CAST(:job_ids AS VARCHAR[]),
                CAST(:created AS TIMESTAMP WITH TIME ZONE[])
            ) AS e (id, user_id, delta, reason, job_id, created_at)
        ), written AS (
            INSERT INTO credit_ledger (id, user_id, delta, reason, job_id, created_at)
            SELECT id, user_id, delta, reason, job_id, created_at FROM entry
            ON CONFLICT (job_id, reason) DO NOTHING
            RETURNING id, user_id, delta
        ), moves AS (
            SELECT user_id, CAST(sum(delta) AS INTEGER) AS delta FROM written
            GROUP BY user_id HAVING sum(delta) <> 0
        ), moved AS (
            UPDATE users SET credits = users.credits + moves.delta FROM moves
            WHERE users.id = moves.user_id AND users.credits + moves.delta >= 0
            RETURNING users.id
        )
        SELECT
            ARRAY(SELECT id FROM written) AS written,
            (SELECT count(*) FROM moves) AS moves,
            (SELECT count(*) FROM moved) AS moved
        """
    )
    .bindparams(
        bindparam("ids", type_=ARRAY(String)),
        bindparam("user_ids", type_=ARRAY(String)),
        bindparam("deltas", type_=ARRAY(Integer)),
        bindparam("reasons", type_=ARRAY(String)),
        bindparam("job_ids", type_=ARRAY(String)),
        bindparam("created", type_=ARRAY(_L.c.created_at.type)),
    )
    .columns(column("written", ARRAY(String)), column("moves"), column("moved"))
)


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(row.id, row.user_id, row.delta, row.reason, row.job_id, row.created_at)


class SqlLedger(SqlRepository):
    """The balance column on users is a running total of the ledger, moved only here, in the same
    transaction as the entry, and never below zero (the update is conditional)."""

    async def balance(self, user_id: str) -> int:
        value = await self._c.scalar(_BALANCE, {"user_id": user_id})
        return int(value or 0)

    async def balance_and_reserved(self, user_id: str) -> tuple[int, int]:
        row = (await self._c.execute(_BALANCE_AND_RESERVED, {"user_id": user_id})).first()
        return (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)

    async def append(self, entry: LedgerEntry) -> bool:
        """The balance moves first (a debit only if it stays at or above zero), then the entry is
        inserted once per (job, reason); a duplicate moves the balance back."""
        moved = await self._c.execute(
            _DEBIT if entry.delta < 0 else _CREDIT, {"user_id": entry.user_id, "delta": entry.delta}
        )
        if moved.rowcount != 1:
            raise InsufficientCredits()
        stmt = insert_once(self._dialect, _L, _ONCE_PER_JOB) if entry.job_id else insert(_L)
        inserted = await self._c.execute(stmt, entry.__dict__)
        if inserted.rowcount != 1:
            await self._c.execute(_CREDIT, {"user_id": entry.user_id, "delta": -entry.delta})
            return False
        return True

    async def hold_balances(self, user_ids: set[str]) -> dict[str, int]:
        """SELECT ... FOR NO KEY UPDATE of the users' balance column, in id order."""
        if not user_ids:
            return {}
        params = {"user_ids": sorted(user_ids)}
        if self._dialect == "postgresql":
            rows = await self._uow.fetch(_HOLD_BALANCES_PG, params)
        else:
            rows = list(await self._c.execute(_HOLD_BALANCES, params))
        return {row.id: int(row.credits or 0) for row in rows}

    async def append_many(self, entries: list[LedgerEntry]) -> set[str]:
        """Entries first (once per job and reason), then one balance move per user for what was
        written, conditional on not going below zero: on Postgres one statement for all users."""
        if not entries:
            return set()
        if self._dialect == "postgresql":
            return await self._append_on_postgres(entries)
        written = await self._insert_reporting(_L, _ONCE_PER_JOB, [e.__dict__ for e in entries])
        deltas: dict[str, int] = {}
        for entry in entries:
            if entry.id in written:
                deltas[entry.user_id] = deltas.get(entry.user_id, 0) + entry.delta
        moves = sorted((user, delta) for user, delta in deltas.items() if delta)
        if not moves:
            return written
        if self._dialect == "postgresql":
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

    async def _append_on_postgres(self, entries: list[LedgerEntry]) -> set[str]:
        (row,) = await self._uow.fetch(
            _APPEND_PG,
            {
                "ids": [e.id for e in entries],
                "user_ids": [e.user_id for e in entries],
                "deltas": [e.delta for e in entries],
                "reasons": [str(e.reason) for e in entries],
                "job_ids": [e.job_id for e in entries],
                "created": [e.created_at for e in entries],
            },
        )
        if row.moved != row.moves:
            raise InsufficientCredits()
        return set(row.written)

    async def entries(
        self, user_id: str, *, limit: int, before: Position | None
    ) -> list[LedgerEntry]:
        stmt = newest_first(select(_L).where(_L.c.user_id == user_id), _L, before, limit)
        return [_entry(r) for r in await self._c.execute(stmt)]

    async def for_job(self, job_id: str) -> list[LedgerEntry]:
        return [_entry(r) for r in await self._c.execute(select(_L).where(_L.c.job_id == job_id))]
