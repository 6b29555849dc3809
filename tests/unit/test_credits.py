from datetime import UTC, datetime

import pytest

from chatsvg.domain.credits.ledger import (
    LedgerReason,
    adjustment_entry,
    balance_after,
    can_afford,
    charge_entry,
    refund_entry,
    signup_grant,
)
from chatsvg.domain.errors import InsufficientCredits, ValidationFailed

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


def test_a_debit_below_zero_is_refused_and_a_credit_always_lands() -> None:
    debit = charge_entry(entry_id="e", user_id="u", job_id="j", cost=2, balance=2, now=NOW)
    assert balance_after(2, debit) == 0
    with pytest.raises(InsufficientCredits):
        balance_after(1, debit)
    assert balance_after(-3, signup_grant(entry_id="g", user_id="u", amount=1, now=NOW)) == -2


def test_operator_adjustments_name_their_direction_and_are_never_zero() -> None:
    grant = adjustment_entry(entry_id="a", user_id="u", delta=5, now=NOW)
    revoke = adjustment_entry(entry_id="b", user_id="u", delta=-5, now=NOW)
    assert (grant.reason, revoke.reason) == (LedgerReason.ADMIN_GRANT, LedgerReason.ADMIN_REVOKE)
    with pytest.raises(ValidationFailed):
        adjustment_entry(entry_id="c", user_id="u", delta=0, now=NOW)


def test_only_entries_that_name_a_job_are_once_per_job_and_reason() -> None:
    refund = refund_entry(entry_id="e", user_id="u", job_id="j", cost=1, now=NOW)
    grant = signup_grant(entry_id="g", user_id="u", amount=10, now=NOW)
    assert refund.once_key == ("j", LedgerReason.GENERATION_REFUND)
    assert (grant.once_key, grant.reason, grant.delta) == (None, LedgerReason.SIGNUP_GRANT, 10)
