"""Credits: an append-only ledger. The balance is the sum of the ledger; nothing else moves it.

Every entry names its reason and, for generations, its job. A job has at most one CHARGE and at
most one REFUND entry (the storage adapters enforce that with a unique key, so even a race or a
replayed message cannot write a second one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chatsvg.domain.errors import InsufficientCredits, ValidationFailed


class LedgerReason(StrEnum):
    SIGNUP_GRANT = "SIGNUP_GRANT"
    GENERATION_CHARGE = "GENERATION_CHARGE"
    GENERATION_REFUND = "GENERATION_REFUND"
    ADMIN_GRANT = "ADMIN_GRANT"
    ADMIN_REVOKE = "ADMIN_REVOKE"
    PLAN_GRANT = "PLAN_GRANT"  # a plan's starting credits, once per activation
    PLAN_REFILL = "PLAN_REFILL"  # a plan's refill, once per paid period


@dataclass(frozen=True)
class LedgerEntry:
    id: str
    user_id: str
    delta: int
    reason: str
    job_id: str | None
    created_at: datetime

    @property
    def once_key(self) -> tuple[str, str] | None:
        """An entry that names a job is written at most once per (job, reason); the storage
        adapters keep it unique, so a retried or replayed write adds nothing."""
        return (self.job_id, self.reason) if self.job_id is not None else None


def charge_entry(
    *, entry_id: str, user_id: str, job_id: str, cost: int, balance: int, now: datetime
) -> LedgerEntry:
    """The debit for one job, refused when the balance cannot cover it: a balance never goes negative."""
    if cost > balance:
        raise InsufficientCredits()
    return LedgerEntry(entry_id, user_id, -cost, LedgerReason.GENERATION_CHARGE, job_id, now)


def refund_entry(
    *, entry_id: str, user_id: str, job_id: str, cost: int, now: datetime
) -> LedgerEntry:
    return LedgerEntry(entry_id, user_id, cost, LedgerReason.GENERATION_REFUND, job_id, now)


def signup_grant(*, entry_id: str, user_id: str, amount: int, now: datetime) -> LedgerEntry:
    """A new account's starting credits."""
    return LedgerEntry(entry_id, user_id, amount, LedgerReason.SIGNUP_GRANT, None, now)


def adjustment_entry(*, entry_id: str, user_id: str, delta: int, now: datetime) -> LedgerEntry:
    """An operator's grant (delta > 0) or revocation (delta < 0). The ledger refuses the entry
    if it would take the balance below zero."""
    if delta == 0:
        raise ValidationFailed("The amount must not be zero.")
    reason = LedgerReason.ADMIN_GRANT if delta > 0 else LedgerReason.ADMIN_REVOKE
    return LedgerEntry(entry_id, user_id, delta, reason, None, now)


def plan_entry(
    *, entry_id: str, user_id: str, amount: int, reason: str, once_key: str, now: datetime
) -> LedgerEntry:
    """Credits a plan gives (PLAN_GRANT or PLAN_REFILL). `once_key` (a UUID derived from what
    they pay for) takes the job's place in the ledger's unique key: written at most once."""
    if reason not in (LedgerReason.PLAN_GRANT, LedgerReason.PLAN_REFILL) or amount <= 0:
        raise ValidationFailed("A plan's credits are a positive PLAN_GRANT or PLAN_REFILL.")
    return LedgerEntry(entry_id, user_id, amount, LedgerReason(reason), once_key, now)


def balance_after(balance: int, entry: LedgerEntry) -> int:
    """The balance once the entry is written; a debit that would take it below zero is refused."""
    after = balance + entry.delta
    if entry.delta < 0 and after < 0:
        raise InsufficientCredits()
    return after


def can_afford(balance: int, pending_cost: int, cost: int) -> bool:
    """Queued jobs not yet charged are counted, so a user cannot queue more than they can pay for."""
    return balance - pending_cost >= cost
