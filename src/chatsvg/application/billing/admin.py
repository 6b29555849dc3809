"""Operators' view of billing (the `chatsvg admin billing` commands): a user's plan, their
subscriptions and events, and replaying an event."""

from __future__ import annotations

from dataclasses import dataclass

from chatsvg.application.billing.events import BillingEventHandler
from chatsvg.application.ports import UnitOfWorkFactory
from chatsvg.domain.accounts.users import User
from chatsvg.domain.billing.events import BillingEvent
from chatsvg.domain.billing.subscriptions import Subscription
from chatsvg.domain.errors import NotFound


@dataclass(frozen=True)
class BillingOverview:
    user: User
    balance: int
    subscriptions: list[Subscription]
    events: list[BillingEvent]


class BillingAdmin:
    def __init__(self, *, uow: UnitOfWorkFactory, handler: BillingEventHandler) -> None:
        self._uow = uow
        self._handler = handler

    async def overview(self, user_ref: str, *, limit: int = 50) -> BillingOverview:
        """By user id or email address."""
        async with self._uow() as uow:
            user = await uow.users.get(user_ref) or await uow.users.by_email(user_ref.lower())
            if user is None:
                raise NotFound("No such user.")
            return BillingOverview(
                user,
                await uow.ledger.balance(user.id),
                await uow.subscriptions.for_user(user.id),
                await uow.billing_events.for_user(user.id, limit),
            )

    async def replay(self, event_id: str) -> BillingEvent:
        """Handle a recorded event again now (its credits are still written at most once)."""
        async with self._uow() as uow:
            event = await uow.billing_events.get(event_id)
            if event is None:
                raise NotFound("No such billing event.")
            event.reopen()
            await uow.billing_events.save(event)
            await uow.commit()
        await self._handler.handle(event_id)
        async with self._uow() as uow:
            return await uow.billing_events.get(event_id) or event
