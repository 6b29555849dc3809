"""The PayPal REST client against the fake PayPal server: the token is cached until near its
expiry and renewed on a 401, PayPal's subscription is read into the domain's terms, and a webhook
is never vouched for without the webhook id and PayPal's transmission headers."""

from __future__ import annotations

import json

import pytest

from chatsvg.adapters.billing.paypal import PayPalClient
from chatsvg.application.ports import BillingProviderError
from chatsvg.domain.billing.subscriptions import SubscriptionStatus
from chatsvg.entrypoints.fake_paypal import FakePayPal


def client(fake: FakePayPal, **overrides: str | None) -> PayPalClient:
    values: dict[str, str | None] = {
        "client_id": fake.state.client_id,
        "client_secret": fake.state.client_secret,
        "webhook_id": fake.state.webhook_id,
    }
    values.update(overrides)
    return PayPalClient(
        base_url=fake.url,
        client_id=values["client_id"] or "",
        client_secret=values["client_secret"] or "",
        webhook_id=values["webhook_id"],
    )


async def test_the_token_is_cached_and_renewed_on_expiry_or_401(fake_paypal: FakePayPal) -> None:
    paypal = client(fake_paypal)
    try:
        before = fake_paypal.state.tokens_issued
        created = await paypal.create_subscription(
            plan_id="P-SUPPORTER", custom_id="u1", return_url="http://r", cancel_url="http://c"
        )
        for _ in range(3):
            remote = await paypal.get_subscription(created.id)
        assert fake_paypal.state.tokens_issued == before + 1
        assert (remote.id, remote.status, remote.custom_id) == (
            created.id,
            SubscriptionStatus.APPROVAL_PENDING,
            "u1",
        )
        assert created.approve_url and "checkoutnow" in created.approve_url

        paypal._token_expires = 0.0  # within a minute of its expiry: a new one
        await paypal.get_subscription(created.id)
        assert fake_paypal.state.tokens_issued == before + 2

        fake_paypal.state.tokens.clear()  # PayPal revoked it early: 401, one new token, retried
        await paypal.get_subscription(created.id)
        assert fake_paypal.state.tokens_issued == before + 3

        with pytest.raises(BillingProviderError):
            await paypal.get_subscription("I-UNKNOWN")
        with pytest.raises(BillingProviderError):
            await paypal.get_subscription("../v1/oauth2/token")
    finally:
        await paypal.aclose()


async def test_wrong_credentials_are_a_provider_error(fake_paypal: FakePayPal) -> None:
    paypal = client(fake_paypal, client_secret="wrong")
    try:
        with pytest.raises(BillingProviderError):
            await paypal.get_subscription("I-1")
    finally:
        await paypal.aclose()


async def test_a_webhook_is_vouched_for_only_when_signed_for_our_webhook(
    fake_paypal: FakePayPal,
) -> None:
    event = fake_paypal.state.make_event("BILLING.SUBSCRIPTION.CANCELLED", {"id": "I-1"})
    body = json.dumps(event).encode()
    headers = fake_paypal.state.headers_for(event)
    paypal = client(fake_paypal)
    no_id = client(fake_paypal, webhook_id=None)
    other = client(fake_paypal, webhook_id="WH-SOMEONE-ELSE")
    try:
        assert await paypal.verify_webhook(headers, body) is True
        assert await paypal.verify_webhook({k.lower(): v for k, v in headers.items()}, body)
        assert await no_id.verify_webhook(headers, body) is False
        assert await other.verify_webhook(headers, body) is False
        missing = {k: v for k, v in headers.items() if k != "PAYPAL-TRANSMISSION-SIG"}
        assert await paypal.verify_webhook(missing, body) is False
        tampered = json.dumps(dict(event, event_type="PAYMENT.SALE.COMPLETED")).encode()
        assert await paypal.verify_webhook(headers, tampered) is False
    finally:
        for c in (paypal, no_id, other):
            await c.aclose()
