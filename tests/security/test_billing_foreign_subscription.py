"""A subscription that ChatSVG did not create (made at PayPal directly, e.g. with the public client
id through PayPal's JavaScript SDK, naming our user as its custom_id) to a plan that is not the
configured SUPPORTER plan (a cheaper or trial plan of the same merchant) must not make its user a
SUPPORTER nor grant credits."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.billing.conftest import Billing, billing, fake_paypal

__all__ = ["billing", "fake_paypal"]  # fixtures

START = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


async def test_a_foreign_subscription_to_another_plan_grants_nothing(billing: Billing) -> None:
    user = await billing.user()
    created = await billing.paypal.create_subscription(
        plan_id="P-CHEAP-TRIAL",
        custom_id=user,
        return_url="https://attacker.example/ok",
        cancel_url="https://attacker.example/no",
    )
    made = billing.control(
        f"/fake/subscriptions/{created.id}/activate",
        time=START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        send=False,
    )
    for event in (made[0]["event"], made[1]["event"]):
        await billing.deliver(event)
    await billing.run_tasks()
    assert await billing.state(user) == ("FREE", 10, [])
    # The periodic sweep (which re-reads known subscriptions) changes nothing either.
    await billing.sweep.sweep()
    await billing.run_tasks()
    assert await billing.state(user) == ("FREE", 10, [])


async def test_a_foreign_subscription_to_the_supporter_plan_still_counts(billing: Billing) -> None:
    """The same path with the configured plan (a crash between PayPal's create and our record):
    the user pays for SUPPORTER and gets it."""
    user = await billing.user()
    created = await billing.paypal.create_subscription(
        plan_id=billing.fake.state.plan_id,
        custom_id=user,
        return_url="https://ok.example/ok",
        cancel_url="https://ok.example/no",
    )
    made = billing.control(
        f"/fake/subscriptions/{created.id}/activate",
        time=START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        send=False,
    )
    await billing.deliver(made[0]["event"])
    await billing.run_tasks()
    assert await billing.state(user) == ("SUPPORTER", 310, [(300, "PLAN_GRANT")])
