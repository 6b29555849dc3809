"""In-memory credits: the ledger, whose sum is each user's balance."""

from __future__ import annotations

from chatsvg.adapters.memory.repository import MemoryRepository, newest_first
from chatsvg.adapters.memory.tables import MemoryTables
from chatsvg.application.ports import Position
from chatsvg.domain.credits.ledger import LedgerEntry
from chatsvg.domain.errors import InsufficientCredits
from chatsvg.domain.generation.jobs import JobStatus

# One charge and one refund per job: the ledger's unique (job_id, reason) key.
_ONCE_PER_JOB = ("job_id", "reason")


def ledger_balance(db: MemoryTables, user_id: str) -> int:
    """A user's balance: the sum of their ledger entries (the SQL users.credits column)."""
    return sum(e.delta for e in db.scan("credit_ledger") if e.user_id == user_id)


class MemoryLedger(MemoryRepository):
    """As the SQL ledger: a balance moves only for a user that exists, never below zero, and an
    entry tied to a job is written once per (job, reason) (the table's unique key)."""

    async def balance(self, user_id: str) -> int:
        return ledger_balance(self._db, user_id)

    async def balance_and_reserved(self, user_id: str) -> tuple[int, int]:
        if not self._db.has("users", user_id):
            return 0, 0
        reserved = sum(
            j.cost
            for j in self._db.scan("generation_jobs")
            if j.user_id == user_id and j.status is JobStatus.QUEUED and not j.charged
        )
        return await self.balance(user_id), reserved

    async def _check_move(self, user_id: str, delta: int) -> None:
        if not self._db.has("users", user_id) or (
            delta < 0 and await self.balance(user_id) + delta < 0
        ):
            raise InsufficientCredits()

    async def append(self, entry: LedgerEntry) -> bool:
        # The balance is checked before the entry's key, as the SQL ledger moves it first.
        await self._check_move(entry.user_id, entry.delta)
        return self._db.insert_once("credit_ledger", entry, _ONCE_PER_JOB)

    async def hold_balances(self, user_ids: set[str]) -> dict[str, int]:
        # One unit of work at a time: nothing else moves a balance until it ends.
        return {
            user_id: await self.balance(user_id)
            for user_id in sorted(user_ids)
            if self._db.has("users", user_id)
        }

    async def append_many(self, entries: list[LedgerEntry]) -> set[str]:
        written = {e.id for e in entries if self._db.insert_once("credit_ledger", e, _ONCE_PER_JOB)}
        deltas: dict[str, int] = {}
        for entry in entries:
            if entry.id in written:
                deltas[entry.user_id] = deltas.get(entry.user_id, 0) + entry.delta
        # As the SQL ledger: the entries first, then each user's balance by their net, refused
        # (the unit of work to be abandoned) if that takes it below zero.
        for user_id, delta in deltas.items():
            if delta and await self.balance(user_id) < 0:
                raise InsufficientCredits()
        return written

    async def entries(
        self, user_id: str, *, limit: int, before: Position | None
    ) -> list[LedgerEntry]:
        rows = (e for e in self._db.scan("credit_ledger") if e.user_id == user_id)
        return newest_first(rows, before, limit)

    async def for_job(self, job_id: str) -> list[LedgerEntry]:
        return [e for e in self._db.scan("credit_ledger") if e.job_id == job_id]
