"""Billing fixtures: the fake PayPal server (a real HTTP server), and billing's use cases on
every storage adapter set, speaking to it through the real PayPal client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from chatsvg.adapters.billing.paypal import PayPalClient
from chatsvg.adapters.clock import FrozenClock
from chatsvg.application.billing.events import HANDLE_BILLING_EVENT, BillingEventHandler
from chatsvg.application.billing.service import BillingConfig, BillingService
from chatsvg.application.billing.sweep import BillingSweep
from chatsvg.application.ports import UnitOfWorkFactory
from chatsvg.domain.accounts.users import User
from chatsvg.domain.credits.ledger import signup_grant
from chatsvg.domain.credits.plans import default_catalogue
from chatsvg.entrypoints.fake_paypal import FakePayPal, FakePayPalState
from tests.support.fakes import RecordingQueue


@pytest.fixture(scope="session")
def fake_paypal() -> Iterator[FakePayPal]:
    fake = FakePayPal(FakePayPalState()).start()
    yield fake
    fake.stop()


@dataclass
class Billing:
    """Billing's use cases on one storage adapter set, against the fake PayPal."""

    uow: UnitOfWorkFactory
    fake: FakePayPal
    paypal: PayPalClient
    service: BillingService
    handler: BillingEventHandler
    sweep: BillingSweep
    queue: RecordingQueue
    clock: FrozenClock

    async def user(self, email: str = "ada@example.com", credits: int = 10) -> str:
        user = User.open(
            user_id=f"u-{email.partition('@')[0]}",
            email=email,
            name="Ada",
            password_hash=None,
            now=self.clock.now(),
        )
        async with self.uow() as uow:
            await uow.users.add(user)
            await uow.ledger.append(
                signup_grant(
                    entry_id=f"g-{user.id}", user_id=user.id, amount=credits, now=user.created_at
                )
            )
            await uow.commit()
        return user.id

    def control(self, path: str, **body: Any) -> Any:
        """A call to the fake's controls (`/fake/...`)."""
        response = httpx.post(f"{self.fake.url}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    async def deliver(self, event: dict[str, Any], *, forge: bool = False) -> None:
        """PayPal's delivery of one event to our webhook intake, signed by the fake."""
        body = json.dumps(event).encode()
        await self.service.receive(self.fake.state.headers_for(event, forge=forge), body)

    async def run_tasks(self) -> list[float | None]:
        """Run the queued billing tasks (retries they ask for stay queued)."""
        results = []
        sent, self.queue.sent = self.queue.sent, []
        for task, payload, _delay in sent:
            assert task == HANDLE_BILLING_EVENT
            results.append(await self.handler.task(payload))
        return results

    async def state(self, user_id: str) -> tuple[str, int, list[tuple[int, str]]]:
        """The user's plan, balance and plan-credit entries (sorted)."""
        async with self.uow() as uow:
            user = await uow.users.get(user_id)
            assert user is not None
            balance = await uow.ledger.balance(user_id)
            entries = await uow.ledger.entries(user_id, limit=100, before=None)
        plan_entries = sorted(
            (e.delta, str(e.reason)) for e in entries if e.reason.startswith("PLAN_")
        )
        return user.plan, balance, plan_entries

    async def subscribe(self, user_id: str) -> str:
        created = await self.service.subscribe(user_id)
        return created.id


@pytest.fixture
async def billing(uow: UnitOfWorkFactory, fake_paypal: FakePayPal) -> AsyncIterator[Billing]:
    fake_paypal.state.webhook_url = None  # events are delivered by the tests, in their order
    fake_paypal.state.fail_next_gets = 0
    clock = FrozenClock()
    paypal = PayPalClient(
        base_url=fake_paypal.url,
        client_id=fake_paypal.state.client_id,
        client_secret=fake_paypal.state.client_secret,
        webhook_id=fake_paypal.state.webhook_id,
    )
    plans = default_catalogue()
    queue = RecordingQueue()
    handler = BillingEventHandler(
        uow=uow, provider=paypal, clock=clock, plans=plans, plan_id=fake_paypal.state.plan_id
    )
    service = BillingService(
        uow=uow,
        provider=paypal,
        queue=queue,
        clock=clock,
        config=BillingConfig(
            enabled=True,
            supporter_plan_id=fake_paypal.state.plan_id,
            return_url="http://localhost:5173/billing/paypal/success",
            cancel_url="http://localhost:5173/billing/paypal/cancel",
        ),
    )
    sweep = BillingSweep(uow=uow, provider=paypal, handler=handler, queue=queue, clock=clock)
    yield Billing(uow, fake_paypal, paypal, service, handler, sweep, queue, clock)
    await paypal.aclose()
