"""The signed-in user's side of billing (subscribe, cancel, status) and the webhook's intake."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from chatsvg.application.billing.events import HANDLE_BILLING_EVENT
from chatsvg.application.ports import (
    BillingProvider,
    BillingProviderError,
    Clock,
    CreatedSubscription,
    TaskQueue,
    UnitOfWorkFactory,
)
from chatsvg.domain.billing.errors import (
    BillingDisabled,
    BillingUnavailable,
    InvalidWebhook,
    NoSubscription,
)
from chatsvg.domain.billing.events import BillingEvent
from chatsvg.domain.billing.subscriptions import Subscription
from chatsvg.domain.errors import NotFound, ValidationFailed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BillingConfig:
    """What billing needs besides PayPal's client: its plan and the buyer's return pages."""

    enabled: bool
    supporter_plan_id: str | None
    return_url: str
    cancel_url: str


@dataclass(frozen=True)
class BillingStatus:
    plan: str
    credits: int
    subscription: Subscription | None
    remote: dict[str, Any] | None


class BillingService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        provider: BillingProvider | None,
        queue: TaskQueue,
        clock: Clock,
        config: BillingConfig,
    ) -> None:
        self._uow = uow
        self._provider = provider
        self._queue = queue
        self._clock = clock
        self._config = config

    @property
    def enabled(self) -> bool:
        return self._config.enabled and self._provider is not None

    def _paypal(self) -> BillingProvider:
        if not self.enabled or self._provider is None:
            raise BillingDisabled()
        return self._provider

    async def subscribe(self, user_id: str) -> CreatedSubscription:
        """A SUPPORTER subscription at PayPal for this user (custom id = the user), waiting for
        their approval at `approve_url`; the plan changes when PayPal's ACTIVATED event comes."""
        paypal = self._paypal()
        plan_id = self._config.supporter_plan_id
        if not plan_id:
            raise BillingDisabled("PayPal billing has no SUPPORTER plan configured")
        async with self._uow() as uow:
            if await uow.users.get(user_id) is None:
                raise NotFound("User not found.")
            subscriptions = await uow.subscriptions.for_user(user_id)
        if any(s.status.paid_up for s in subscriptions):
            raise ValidationFailed("You already have an active subscription.")
        try:
            created = await paypal.create_subscription(
                plan_id=plan_id,
                custom_id=user_id,
                return_url=self._config.return_url,
                cancel_url=self._config.cancel_url,
            )
        except BillingProviderError as exc:
            log.warning("PayPal create-subscription failed: %s", exc)
            raise BillingUnavailable() from None
        async with self._uow() as uow:
            await uow.subscriptions.save(
                Subscription.open(
                    subscription_id=created.id,
                    user_id=user_id,
                    plan_id=plan_id,
                    status=created.status,
                    now=self._clock.now(),
                )
            )
            await uow.commit()
        return created

    async def cancel(self, user_id: str) -> Subscription:
        """Ask PayPal to cancel the user's live subscription; the plan ends with PayPal's
        CANCELLED event (400 NO_SUBSCRIPTION when there is none)."""
        paypal = self._paypal()
        async with self._uow() as uow:
            subscriptions = await uow.subscriptions.for_user(user_id)
        live = [s for s in subscriptions if not s.status.ended]
        if not live:
            raise NoSubscription()
        target = next((s for s in live if s.status.paid_up), live[0])
        try:
            await paypal.cancel_subscription(target.id, "Cancelled by the subscriber")
        except BillingProviderError as exc:
            log.warning("PayPal cancel failed: %s", exc)
            raise BillingUnavailable() from None
        return target

    async def status(self, user_id: str) -> BillingStatus:
        """The plan, the balance and the user's latest subscription, with PayPal's view of it
        (null when PayPal cannot be reached)."""
        paypal = self._paypal()
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound("User not found.")
            balance = await uow.ledger.balance(user_id)
            subscriptions = await uow.subscriptions.for_user(user_id)
        latest = next((s for s in subscriptions if s.status.paid_up), None) or (
            subscriptions[0] if subscriptions else None
        )
        remote = None
        if latest is not None:
            try:
                remote = (await paypal.get_subscription(latest.id)).raw
            except BillingProviderError:
                log.info("PayPal status read failed", exc_info=True)
        return BillingStatus(user.plan, balance, latest, remote)

    async def receive(self, headers: dict[str, str], body: bytes) -> BillingEvent:
        """A webhook delivery: verified with PayPal (400 when it is not), recorded once per event
        id, then handed to the task queue. A redelivery of an event not done yet is queued again;
        one done already changes nothing."""
        paypal = self._paypal()
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidWebhook("The webhook body is not JSON.") from None
        if not isinstance(payload, dict):
            raise InvalidWebhook("The webhook body is not a JSON object.")
        try:
            verified = await paypal.verify_webhook(headers, body)
        except BillingProviderError as exc:
            log.warning("PayPal webhook verification failed: %s", exc)
            raise BillingUnavailable() from None
        if not verified:
            raise InvalidWebhook("The webhook signature could not be verified.")
        event = BillingEvent.receive(payload, self._clock.now())
        async with self._uow() as uow:
            recorded = await uow.billing_events.record(event)
            if not recorded:
                event = await uow.billing_events.get(event.id) or event
            await uow.commit()
        if not event.done:
            try:
                await self._queue.enqueue(HANDLE_BILLING_EVENT, event.id)
            except Exception:
                # Recorded: the billing sweep hands pending events to the queue again.
                log.exception("enqueue failed; the sweep will pick the event up")
        return event
