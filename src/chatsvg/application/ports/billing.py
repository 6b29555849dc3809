"""Ports of billing: our copy of subscriptions, the recorded webhook events, and PayPal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chatsvg.domain.billing.events import BillingEvent
from chatsvg.domain.billing.subscriptions import RemoteSubscription, Subscription


class SubscriptionRepository(Protocol):
    async def get(self, subscription_id: str) -> Subscription | None: ...

    async def for_user(self, user_id: str) -> list[Subscription]:
        """The user's subscriptions, newest first."""
        ...

    async def save(self, subscription: Subscription) -> None:
        """Insert or update (by id)."""
        ...

    async def unsettled(self, limit: int, *, pending_since: datetime) -> list[Subscription]:
        """Subscriptions PayPal may still move (not cancelled or expired), least recently
        updated first: what the sweep re-reads. One still waiting for the buyer's approval
        counts only if it was created at or after `pending_since` (an abandoned checkout is
        not re-read forever)."""
        ...


class BillingEventRepository(Protocol):
    async def record(self, event: BillingEvent) -> bool:
        """Insert the event once per id: False (nothing written) when it is recorded already."""
        ...

    async def get(self, event_id: str) -> BillingEvent | None: ...

    async def save(self, event: BillingEvent) -> None:
        """Write the event's handling state (processed, attempts, error, outcome, user)."""
        ...

    async def pending(self, received_before: datetime, limit: int) -> list[BillingEvent]:
        """Events not processed yet, received before that moment, oldest first."""
        ...

    async def for_user(self, user_id: str, limit: int) -> list[BillingEvent]:
        """The user's events (by the subscription they concern), newest first."""
        ...


@dataclass(frozen=True)
class CreatedSubscription:
    id: str
    status: str
    approve_url: str | None


class BillingProviderError(Exception):
    """PayPal could not be reached or refused a call (never shown to a client as is)."""


class BillingProvider(Protocol):
    """PayPal's REST API, as the use cases need it."""

    async def create_subscription(
        self, *, plan_id: str, custom_id: str, return_url: str, cancel_url: str
    ) -> CreatedSubscription: ...

    async def get_subscription(self, subscription_id: str) -> RemoteSubscription:
        """Raises BillingProviderError (also when PayPal does not know it)."""
        ...

    async def cancel_subscription(self, subscription_id: str, reason: str) -> None: ...

    async def verify_webhook(self, headers: dict[str, str], body: bytes) -> bool:
        """Whether PayPal vouches for this delivery (verify-webhook-signature), the body as
        received."""
        ...

    async def aclose(self) -> None: ...
