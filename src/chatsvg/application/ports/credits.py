"""Ports of the credits feature: the ledger and balances."""

from __future__ import annotations

from typing import Protocol

from chatsvg.application.ports.common import Position
from chatsvg.domain.credits.ledger import LedgerEntry


class CreditLedger(Protocol):
    """An entry tied to a job is written at most once per (job, reason), whatever the reason;
    entries tied to no job never collide. A balance never goes below zero."""

    async def balance(self, user_id: str) -> int: ...

    async def balance_and_reserved(self, user_id: str) -> tuple[int, int]:
        """The balance, and the cost of the user's queued jobs that are not charged yet (which
        those jobs will take from it), read together."""
        ...

    async def append(self, entry: LedgerEntry) -> bool:
        """Append an entry. Raises InsufficientCredits when it would make the balance negative
        (a duplicate included); else False (nothing written) when its job already has an entry
        of this reason."""
        ...

    async def hold_balances(self, user_ids: set[str]) -> dict[str, int]:
        """The users' balances, held for this unit of work: no other unit of work moves them
        until it ends."""
        ...

    async def append_many(self, entries: list[LedgerEntry]) -> set[str]:
        """Append entries: the ids of those written. An entry whose job already has one of its
        reason is skipped. Raises InsufficientCredits when the entries written for a user would,
        together, take the balance below zero; the unit of work must then be abandoned."""
        ...

    async def entries(
        self, user_id: str, *, limit: int, before: Position | None
    ) -> list[LedgerEntry]: ...

    async def for_job(self, job_id: str) -> list[LedgerEntry]: ...
