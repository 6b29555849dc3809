"""Billing's rules, pure: periods by PayPal's times, once-keys, what an event names, and a
subscription that never comes back from its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatsvg.domain.billing.events import BillingEvent, EventKind, parse_time
from chatsvg.domain.billing.subscriptions import (
    RemoteSubscription,
    Subscription,
    SubscriptionStatus,
    activation_grant,
    months_between,
    plan_of,
    refill_grant,
)
from chatsvg.domain.credits.ledger import plan_entry
from chatsvg.domain.credits.plans import PlanName, default_catalogue
from chatsvg.domain.errors import ValidationFailed

T0 = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
PLANS = default_catalogue()


def remote(status: str, **times: datetime | None) -> RemoteSubscription:
    return RemoteSubscription(
        id="I-1",
        status=SubscriptionStatus.parse(status),
        plan_id="P-1",
        custom_id="u1",
        start_time=times.get("start", T0),
        status_update_time=times.get("updated", T0),
        next_billing_time=None,
        last_payment_time=times.get("paid"),
        payer_id="PAYER",
        raw={},
    )


def subscription() -> Subscription:
    return Subscription.open(
        subscription_id="I-1", user_id="u1", plan_id="P-1", status="APPROVAL_PENDING", now=T0
    )


@pytest.mark.parametrize(
    ("when", "months"),
    [
        (T0 - timedelta(seconds=5), 0),
        (T0, 0),
        (datetime(2026, 2, 27, tzinfo=UTC), 0),
        (datetime(2026, 2, 28, 10, 0, tzinfo=UTC), 1),  # Jan 31 + 1 month = Feb 28
        (datetime(2026, 3, 30, tzinfo=UTC), 1),
        (datetime(2026, 3, 31, 10, 0, tzinfo=UTC), 2),
        (datetime(2027, 1, 31, 10, 0, tzinfo=UTC), 12),
    ],
)
def test_months_between_counts_calendar_months_from_the_start(when: datetime, months: int) -> None:
    assert months_between(T0, when) == months


def test_refills_are_one_per_period_after_the_first_and_never_after_the_end() -> None:
    sub = subscription()
    sub.follow(remote("ACTIVE"), T0)
    assert refill_grant(PLANS, sub, T0) is None  # the first payment: the activation grant covers it
    first = refill_grant(PLANS, sub, T0 + timedelta(days=31))
    again = refill_grant(PLANS, sub, T0 + timedelta(days=35))
    assert first is not None and again is not None
    assert (first.key, first.reason, first.amount) == (again.key, "PLAN_REFILL", 300)
    later = refill_grant(PLANS, sub, T0 + timedelta(days=62))
    assert later is not None and later.key != first.key
    # PayPal charges on the anniversary's date, at its own hour (here earlier than the start's),
    # or a day early: still the new period. A retry of the first payment days later is not.
    anniversary_early = refill_grant(PLANS, sub, datetime(2026, 2, 27, 23, 0, tzinfo=UTC))
    assert anniversary_early is not None and anniversary_early.key == first.key
    assert refill_grant(PLANS, sub, T0 + timedelta(days=10)) is None

    ended = T0 + timedelta(days=40)
    sub.follow(remote("CANCELLED", updated=ended), ended)
    assert refill_grant(PLANS, sub, T0 + timedelta(days=35)) is not None  # paid before the end
    assert refill_grant(PLANS, sub, ended + timedelta(days=30)) is None


def test_an_ended_subscription_never_comes_back_and_the_plan_follows_status() -> None:
    sub = subscription()
    sub.follow(remote("ACTIVE"), T0)
    assert plan_of([sub]) is PlanName.SUPPORTER
    sub.follow(remote("CANCELLED", updated=T0 + timedelta(days=3)), T0)
    sub.follow(remote("ACTIVE", updated=T0 + timedelta(days=9)), T0)  # a stale or odd read
    assert sub.status is SubscriptionStatus.CANCELLED
    assert plan_of([sub]) is PlanName.FREE
    suspended = subscription()
    suspended.follow(remote("SUSPENDED", updated=T0 + timedelta(days=1)), T0)
    suspended.follow(remote("ACTIVE", updated=T0 + timedelta(days=2)), T0)  # re-activated
    assert plan_of([sub, suspended]) is PlanName.SUPPORTER


def test_activation_grants_are_keyed_by_the_activation() -> None:
    first = activation_grant(PLANS, "I-1")
    assert first is not None and first == activation_grant(PLANS, "I-1", "first")
    again = activation_grant(PLANS, "I-1", "re-activation at 2026-03-01T00:00:00Z")
    other = activation_grant(PLANS, "I-2")
    assert again is not None and other is not None
    assert len({first.key, again.key, other.key}) == 3
    assert (first.reason, first.amount, len(first.key)) == ("PLAN_GRANT", 300, 36)


def test_events_name_their_subscription_and_kind() -> None:
    sale = BillingEvent.receive(
        {
            "id": "WH-1",
            "event_type": "PAYMENT.SALE.COMPLETED",
            "resource": {"billing_agreement_id": "I-1", "create_time": "2026-02-01T10:00:00Z"},
        },
        T0,
    )
    assert (sale.subscription_id, sale.kind) == ("I-1", EventKind.SALE)
    assert sale.sale_time == datetime(2026, 2, 1, 10, tzinfo=UTC)
    cancelled = BillingEvent.receive(
        {"id": "WH-2", "event_type": "BILLING.SUBSCRIPTION.CANCELLED", "resource": {"id": "I-1"}},
        T0,
    )
    assert (cancelled.subscription_id, cancelled.kind) == ("I-1", EventKind.ENDED)
    other = BillingEvent.receive({"id": "WH-3", "event_type": "CHECKOUT.ORDER.APPROVED"}, T0)
    assert other.kind is EventKind.IGNORED
    for bad in ({}, {"id": "WH-4"}, {"event_type": "X"}, {"id": "x" * 65, "event_type": "X"}):
        with pytest.raises(ValidationFailed):
            BillingEvent.receive(bad, T0)


def test_a_failed_event_backs_off_then_stops_and_a_replay_reopens_it() -> None:
    event = BillingEvent.receive({"id": "WH-1", "event_type": "X"}, T0)
    delays = []
    for _ in range(10):
        event.failed("boom")
        delays.append(event.retry_delay())
    assert delays[:3] == [2.0, 4.0, 8.0] and delays[-2] == 512.0 and delays[-1] is None
    event.reopen()
    assert (event.attempts, event.done, event.last_error) == (0, False, None)


def test_plan_entries_are_positive_plan_reasons_with_their_once_key() -> None:
    entry = plan_entry(
        entry_id="e1", user_id="u1", amount=300, reason="PLAN_REFILL", once_key="k", now=T0
    )
    assert (entry.delta, entry.reason, entry.once_key) == (300, "PLAN_REFILL", ("k", "PLAN_REFILL"))
    with pytest.raises(ValidationFailed):
        plan_entry(entry_id="e", user_id="u", amount=0, reason="PLAN_GRANT", once_key="k", now=T0)
    with pytest.raises(ValidationFailed):
        plan_entry(entry_id="e", user_id="u", amount=5, reason="ADMIN_GRANT", once_key="k", now=T0)


def test_parse_time_reads_paypal_times_only() -> None:
    assert parse_time("2026-01-01T00:00:00Z") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_time("2026-01-01T00:00:00") is None  # no zone
    assert parse_time("yesterday") is None and parse_time(None) is None
