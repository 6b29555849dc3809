"""Billing's guarantees, on every storage adapter set (memory, SQLite, Postgres), against the
fake PayPal server over HTTP: the events come signed by it, our intake verifies them with it,
and the handler re-reads subscriptions from it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from chatsvg.domain.billing.errors import InvalidWebhook, NoSubscription
from tests.billing.conftest import Billing

START = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


async def activated(billing: Billing, user: str) -> tuple[str, dict, dict]:
    """A subscription approved at PayPal: its ACTIVATED and first SALE.COMPLETED events (not
    delivered yet)."""
    sub = await billing.subscribe(user)
    made = billing.control(f"/fake/subscriptions/{sub}/activate", time=iso(START), send=False)
    return sub, made[0]["event"], made[1]["event"]


async def test_subscribe_then_activated_makes_a_supporter_with_300_credits_once(
    billing: Billing,
) -> None:
    user = await billing.user()
    sub, activation, first_sale = await activated(billing, user)
    assert await billing.state(user) == ("FREE", 10, [])
    await billing.deliver(activation)
    await billing.run_tasks()
    assert await billing.state(user) == ("SUPPORTER", 310, [(300, "PLAN_GRANT")])
    # The first period's payment adds nothing beyond the activation grant.
    await billing.deliver(first_sale)
    await billing.run_tasks()
    assert await billing.state(user) == ("SUPPORTER", 310, [(300, "PLAN_GRANT")])
    status = await billing.service.status(user)
    assert status.subscription is not None and status.subscription.id == sub
    assert status.remote is not None and status.remote["status"] == "ACTIVE"


async def test_the_same_event_delivered_three_times_counts_once(billing: Billing) -> None:
    user = await billing.user()
    _sub, activation, _sale = await activated(billing, user)
    for _ in range(3):
        await billing.deliver(activation)
    await billing.run_tasks()
    for _ in range(2):  # redelivered after it was handled: recorded already, nothing queued
        await billing.deliver(activation)
    assert billing.queue.sent == []
    assert await billing.state(user) == ("SUPPORTER", 310, [(300, "PLAN_GRANT")])


async def test_a_sale_before_the_activation_ends_as_the_right_order_does(billing: Billing) -> None:
    right, wrong = await billing.user("right@example.com"), await billing.user("wrong@example.com")
    _s1, activation1, sale1 = await activated(billing, right)
    _s2, activation2, sale2 = await activated(billing, wrong)
    period2 = START + timedelta(days=31)

    await billing.deliver(activation1)
    await billing.run_tasks()
    await billing.deliver(sale1)
    await billing.run_tasks()
    renewal1 = billing.control(f"/fake/subscriptions/{_s1}/pay", time=iso(period2), send=False)
    await billing.deliver(renewal1[0]["event"])
    await billing.run_tasks()

    renewal2 = billing.control(f"/fake/subscriptions/{_s2}/pay", time=iso(period2), send=False)
    await billing.deliver(renewal2[0]["event"])
    await billing.deliver(sale2)
    await billing.run_tasks()
    await billing.deliver(activation2)
    await billing.run_tasks()

    expected = ("SUPPORTER", 610, [(300, "PLAN_GRANT"), (300, "PLAN_REFILL")])
    assert await billing.state(right) == expected
    assert await billing.state(wrong) == expected


async def test_two_payments_in_one_period_refill_once_even_handled_at_once(
    billing: Billing,
) -> None:
    user = await billing.user()
    sub, activation, _sale = await activated(billing, user)
    await billing.deliver(activation)
    await billing.run_tasks()
    period = START + timedelta(days=32)
    first = billing.control(f"/fake/subscriptions/{sub}/pay", time=iso(period), send=False)
    again = billing.control(
        f"/fake/subscriptions/{sub}/pay", time=iso(period + timedelta(days=3)), send=False
    )
    await billing.deliver(first[0]["event"])
    await billing.deliver(again[0]["event"])
    # Two workers on the same events at once (a redelivery raced the first run).
    sent = list(billing.queue.sent)
    billing.queue.sent = []
    await asyncio.gather(*(billing.handler.task(payload) for _t, payload, _d in sent + sent))
    assert await billing.state(user) == (
        "SUPPORTER",
        610,
        [(300, "PLAN_GRANT"), (300, "PLAN_REFILL")],
    )
    # The next period refills again.
    later = billing.control(
        f"/fake/subscriptions/{sub}/pay", time=iso(START + timedelta(days=62)), send=False
    )
    await billing.deliver(later[0]["event"])
    await billing.run_tasks()
    assert (await billing.state(user))[1] == 910


async def test_a_failed_event_is_processed_when_redelivered(billing: Billing) -> None:
    user = await billing.user()
    _sub, activation, _sale = await activated(billing, user)
    billing.fake.state.fail_next_gets = 1  # PayPal answers 500 to the handler's re-read once
    await billing.deliver(activation)
    assert await billing.run_tasks() == [2.0]  # failed: the task asks to run again in 2 s
    assert await billing.state(user) == ("FREE", 10, [])
    async with billing.uow() as uow:
        event = await uow.billing_events.get(activation["id"])
    assert event is not None and not event.done and event.attempts == 1
    assert event.last_error is not None
    await billing.deliver(activation)  # PayPal redelivers (the webhook had answered 200)
    await billing.run_tasks()
    assert await billing.state(user) == ("SUPPORTER", 310, [(300, "PLAN_GRANT")])


async def test_a_late_payment_after_the_cancellation_never_re_upgrades(billing: Billing) -> None:
    user = await billing.user()
    sub, activation, _sale = await activated(billing, user)
    await billing.deliver(activation)
    await billing.run_tasks()
    cancelled_at = START + timedelta(days=20)
    cancel = billing.control(
        f"/fake/subscriptions/{sub}/status", status="CANCELLED", time=iso(cancelled_at), send=False
    )
    await billing.deliver(cancel[0]["event"])
    await billing.run_tasks()
    assert await billing.state(user) == ("FREE", 310, [(300, "PLAN_GRANT")])  # credits kept
    late = billing.control(
        f"/fake/subscriptions/{sub}/pay", time=iso(START + timedelta(days=35)), send=False
    )
    await billing.deliver(late[0]["event"])
    await billing.run_tasks()
    assert await billing.state(user) == ("FREE", 310, [(300, "PLAN_GRANT")])
    with pytest.raises(NoSubscription):
        await billing.service.cancel(user)


async def test_cancelled_before_the_activation_event_ends_as_the_right_order(
    billing: Billing,
) -> None:
    user = await billing.user()
    sub, activation, _sale = await activated(billing, user)
    cancel = billing.control(
        f"/fake/subscriptions/{sub}/status",
        status="CANCELLED",
        time=iso(START + timedelta(days=2)),
        send=False,
    )
    await billing.deliver(cancel[0]["event"])
    await billing.run_tasks()
    await billing.deliver(activation)
    await billing.run_tasks()
    assert await billing.state(user) == ("FREE", 310, [(300, "PLAN_GRANT")])


async def test_a_forged_signature_is_refused_and_changes_nothing(billing: Billing) -> None:
    user = await billing.user()
    _sub, activation, _sale = await activated(billing, user)
    with pytest.raises(InvalidWebhook):
        await billing.deliver(activation, forge=True)
    forged = dict(activation, id="WH-FORGED")  # a signed event, altered
    headers = billing.fake.state.headers_for(activation)
    import json

    with pytest.raises(InvalidWebhook):
        await billing.service.receive(headers, json.dumps(forged).encode())
    assert billing.queue.sent == []
    async with billing.uow() as uow:
        assert await uow.billing_events.get(activation["id"]) is None
        assert await uow.billing_events.get("WH-FORGED") is None
    assert await billing.state(user) == ("FREE", 10, [])


async def test_the_sweep_catches_missed_events(billing: Billing) -> None:
    user = await billing.user()
    sub, _activation, _sale = await activated(billing, user)  # no event ever arrives
    billing.control(
        f"/fake/subscriptions/{sub}/pay", time=iso(START + timedelta(days=33)), send=False
    )
    report = await billing.sweep.sweep()
    assert report.reread == 1
    assert await billing.state(user) == (
        "SUPPORTER",
        610,
        [(300, "PLAN_GRANT"), (300, "PLAN_REFILL")],
    )
    await billing.sweep.sweep()  # again: nothing more
    assert (await billing.state(user))[1] == 610
    # A recorded event whose task was lost is queued again by the sweep.
    cancel = billing.control(f"/fake/subscriptions/{sub}/status", status="CANCELLED", send=False)
    billing.queue.fail = True
    await billing.deliver(cancel[0]["event"])  # recorded; the enqueue failed
    billing.queue.fail = False
    billing.clock.advance(minutes=5)
    await billing.sweep.sweep()
    await billing.run_tasks()
    assert (await billing.state(user))[0] == "FREE"


async def test_an_abandoned_checkout_is_not_re_read_and_a_supporter_cannot_subscribe_twice(
    billing: Billing,
) -> None:
    from chatsvg.domain.errors import ValidationFailed

    user = await billing.user()
    await billing.subscribe(user)  # never approved
    assert (await billing.sweep.sweep()).reread == 1
    billing.clock.advance(days=4)
    assert (await billing.sweep.sweep()).reread == 0
    _sub, activation, _sale = await activated(billing, user)
    await billing.deliver(activation)
    await billing.run_tasks()
    with pytest.raises(ValidationFailed):
        await billing.service.subscribe(user)
