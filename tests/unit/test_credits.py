from datetime import UTC, datetime

import pytest

from chatsvg.domain.credits.ledger import LedgerReason, can_afford, charge_entry, refund_entry
from chatsvg.domain.errors import InsufficientCredits

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_charge_and_refund_entries() -> None:
    charge = charge_entry(entry_id="e1", user_id="u", job_id="j", cost=2, balance=2, now=NOW)
    assert (charge.delta, charge.reason, charge.job_id) == (-2, LedgerReason.GENERATION_CHARGE, "j")
    refund = refund_entry(entry_id="e2", user_id="u", job_id="j", cost=2, now=NOW)
    assert (refund.delta, refund.reason) == (2, LedgerReason.GENERATION_REFUND)


def test_a_charge_never_takes_the_balance_below_zero() -> None:
    with pytest.raises(InsufficientCredits):
        charge_entry(entry_id="e", user_id="u", job_id="j", cost=2, balance=1, now=NOW)


def test_queued_jobs_count_against_what_a_user_can_afford() -> None:
    assert can_afford(balance=3, pending_cost=2, cost=1)
    assert not can_afford(balance=3, pending_cost=3, cost=1)
