"""Handling a recorded webhook event: the named task `handle_billing_event`.

The event says which subscription to look at; what happens is decided from the subscription as
PayPal reports it now (re-read), PayPal's times, and the ledger's once-per-key entries
(domain/billing/subscriptions.py). The event is marked done in the same unit of work that writes
its effects; a failure is counted and the task runs again later (PayPal also redelivers)."""

from __future__ import annotations

import logging
from datetime import datetime

from chatsvg.application.ids import new_id
from chatsvg.application.ports import (
    BillingProvider,
    Clock,
    TaskPayload,
    UnitOfWork,
    UnitOfWorkFactory,
)
from chatsvg.domain.billing.events import BillingEvent, EventKind
from chatsvg.domain.billing.subscriptions import (
    Grant,
    RemoteSubscription,
    Subscription,
    activation_grant,
    plan_of,
    refill_grant,
)
from chatsvg.domain.credits.ledger import plan_entry
from chatsvg.domain.credits.plans import PlanCatalogue

log = logging.getLogger(__name__)

HANDLE_BILLING_EVENT = "handle_billing_event"


class BillingEventHandler:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        provider: BillingProvider | None,
        clock: Clock,
        plans: PlanCatalogue,
        plan_id: str | None = None,
    ) -> None:
        """`plan_id`: the SUPPORTER plan's PayPal id (PAYPAL_SUPPORTER_PLAN_ID)."""
        self._uow = uow
        self._provider = provider
        self._clock = clock
        self._plans = plans
        self._plan_id = plan_id

    async def task(self, payload: TaskPayload) -> float | None:
        """The task's handler: the payload is the event id."""
        return await self.handle(str(payload))

    async def handle(self, event_id: str) -> float | None:
        """Run one event to completion. Returns None when done (or nothing to do), else the
        seconds after which to try again."""
        async with self._uow() as uow:
            event = await uow.billing_events.get(event_id)
        if event is None or event.done:
            return None
        try:
            if event.kind is EventKind.IGNORED or not event.subscription_id:
                await self._finish_only(event_id, "ignored: not about a subscription")
                return None
            if self._provider is None:
                raise RuntimeError("billing is not configured")
            remote = await self._provider.get_subscription(event.subscription_id)
            await self.apply(remote, event_id=event_id)
        except Exception as exc:
            log.warning("billing event failed", exc_info=True, extra={"event_id": event_id})
            return await self._failed(event_id, f"{type(exc).__name__}: {exc}")
        return None

    async def apply(self, remote: RemoteSubscription, *, event_id: str | None = None) -> str:
        """Bring our copy of the subscription, the user's plan and their plan credits in line
        with PayPal's state, and the event (if any) to done, in one unit of work."""
        now = self._clock.now()
        async with self._uow() as uow:
            event = await uow.billing_events.get(event_id) if event_id else None
            if event is not None and event.done:
                return event.outcome or "done"
            subscription = await uow.subscriptions.get(remote.id)
            user_id = subscription.user_id if subscription else remote.custom_id
            user = await uow.users.get(user_id) if user_id else None
            if user is None or user_id is None:
                outcome = "ignored: the subscription's user does not exist"
            elif subscription is None and (not self._plan_id or remote.plan_id != self._plan_id):
                # Not created by us (anyone can create one at PayPal with the public client id
                # and any custom_id): it is adopted only when it is for the SUPPORTER plan, not
                # for another plan of the same merchant (a cheaper one, a trial).
                outcome = f"ignored: not created here and not the SUPPORTER plan ({remote.plan_id})"
            else:
                if subscription is None:
                    subscription = Subscription.open(
                        subscription_id=remote.id,
                        user_id=user_id,
                        plan_id=remote.plan_id,
                        status=remote.status.value,
                        now=now,
                    )
                subscription.follow(remote, now)
                await uow.subscriptions.save(subscription)
                grants = self._grants(subscription, event)
                written = await self._write(uow, user_id, grants, now)
                plan = plan_of(await uow.subscriptions.for_user(user_id))
                if user.move_to_plan(plan.value):
                    await uow.users.update(user)
                outcome = f"{subscription.status.value}; plan {plan.value}" + "".join(
                    f"; +{g.amount} {g.reason} ({g.fact})" for g in written
                )
            if event is not None:
                event.attach(user_id if user is not None else None)
                event.finish(now, outcome)
                await uow.billing_events.save(event)
            await uow.commit()
        return outcome

    def _grants(self, subscription: Subscription, event: BillingEvent | None) -> list[Grant]:
        grants: list[Grant | None] = []
        if subscription.status.paid_up:
            # Active at PayPal: the first activation's credits, whichever event (or the sweep)
            # saw it first.
            grants.append(activation_grant(self._plans, subscription.id))
        if event is not None and event.kind is EventKind.ACTIVATED:
            # The event vouches for an activation even when it arrives after the cancellation.
            grants.append(activation_grant(self._plans, subscription.id, event.activation))
        if event is not None and event.kind is EventKind.SALE:
            sale_time = event.sale_time
            if sale_time is not None:
                grants.append(refill_grant(self._plans, subscription, sale_time))
        if subscription.last_payment_time is not None:
            # PayPal's last payment: a refill whose sale event was missed.
            grants.append(refill_grant(self._plans, subscription, subscription.last_payment_time))
        unique = {g.key: g for g in grants if g is not None}
        return list(unique.values())

    async def _write(
        self, uow: UnitOfWork, user_id: str, grants: list[Grant], now: datetime
    ) -> list[Grant]:
        written = []
        for grant in grants:
            entry = plan_entry(
                entry_id=new_id(),
                user_id=user_id,
                amount=grant.amount,
                reason=grant.reason,
                once_key=grant.key,
                now=now,
            )
            if await uow.ledger.append(entry):
                written.append(grant)
        return written

    async def _finish_only(self, event_id: str, outcome: str) -> None:
        async with self._uow() as uow:
            event = await uow.billing_events.get(event_id)
            if event is None or event.done:
                return
            event.finish(self._clock.now(), outcome)
            await uow.billing_events.save(event)
            await uow.commit()

    async def _failed(self, event_id: str, error: str) -> float | None:
        async with self._uow() as uow:
            event = await uow.billing_events.get(event_id)
            if event is None or event.done:
                return None
            event.failed(error)
            await uow.billing_events.save(event)
            await uow.commit()
        return event.retry_delay()
