"""Billing: our copy of PayPal subscriptions, and the recorded webhook events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from chatsvg.adapters.sql.billing_tables import billing_events, billing_subscriptions
from chatsvg.adapters.sql.repositories.base import SqlRepository, insert_once
from chatsvg.domain.billing.events import BillingEvent
from chatsvg.domain.billing.subscriptions import Subscription, SubscriptionStatus

_S = billing_subscriptions
_E = billing_events
# The domain's `ended` and `awaiting_activation`, as the values stored in the status column.
_SETTLED = tuple(s.value for s in SubscriptionStatus if s.ended)
_WAITING = tuple(s.value for s in SubscriptionStatus if s.awaiting_activation)


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        user_id=row.user_id,
        plan_id=row.plan_id,
        status=SubscriptionStatus.parse(row.status),
        customer_id=row.customer_id,
        start_time=row.start_time,
        status_update_time=row.status_update_time,
        next_billing_time=row.next_billing_time,
        last_payment_time=row.last_payment_time,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _subscription_row(s: Subscription) -> dict[str, Any]:
    return {
        "id": s.id,
        "user_id": s.user_id,
        "plan_id": s.plan_id,
        "status": s.status.value,
        "customer_id": s.customer_id,
        "start_time": s.start_time,
        "status_update_time": s.status_update_time,
        "next_billing_time": s.next_billing_time,
        "last_payment_time": s.last_payment_time,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def _event(row: Any) -> BillingEvent:
    return BillingEvent(
        id=row.id,
        event_type=row.event_type,
        subscription_id=row.subscription_id,
        user_id=row.user_id,
        payload=dict(row.payload),
        received_at=row.received_at,
        processed_at=row.processed_at,
        attempts=row.attempts,
        last_error=row.last_error,
        outcome=row.outcome,
    )


class SqlSubscriptions(SqlRepository):
    async def get(self, subscription_id: str) -> Subscription | None:
        row = (await self._c.execute(select(_S).where(_S.c.id == subscription_id))).first()
        return _subscription(row) if row else None

    async def for_user(self, user_id: str) -> list[Subscription]:
        rows = await self._c.execute(
            select(_S).where(_S.c.user_id == user_id).order_by(_S.c.created_at.desc(), _S.c.id)
        )
        return [_subscription(r) for r in rows]

    async def save(self, subscription: Subscription) -> None:
        row = _subscription_row(subscription)
        stmt = insert_once(self._dialect, _S, ("id",), returning=True)
        if (await self._c.execute(stmt, row)).first() is None:
            values = {k: v for k, v in row.items() if k not in ("id", "user_id", "created_at")}
            await self._c.execute(update(_S).where(_S.c.id == subscription.id).values(**values))

    async def unsettled(self, limit: int, *, pending_since: datetime) -> list[Subscription]:
        rows = await self._c.execute(
            select(_S)
            .where(
                _S.c.status.not_in(_SETTLED),
                _S.c.status.not_in(_WAITING) | (_S.c.created_at >= pending_since),
            )
            .order_by(_S.c.updated_at, _S.c.id)
            .limit(limit)
        )
        return [_subscription(r) for r in rows]


class SqlBillingEvents(SqlRepository):
    async def record(self, event: BillingEvent) -> bool:
        row = {
            "id": event.id,
            "event_type": event.event_type,
            "subscription_id": event.subscription_id,
            "user_id": event.user_id,
            "payload": event.payload,
            "received_at": event.received_at,
            "processed_at": event.processed_at,
            "attempts": event.attempts,
            "last_error": event.last_error,
            "outcome": event.outcome,
        }
        stmt = insert_once(self._dialect, _E, ("id",), returning=True)
        return (await self._c.execute(stmt, row)).first() is not None

    async def get(self, event_id: str) -> BillingEvent | None:
        row = (await self._c.execute(select(_E).where(_E.c.id == event_id))).first()
        return _event(row) if row else None

    async def save(self, event: BillingEvent) -> None:
        await self._c.execute(
            update(_E)
            .where(_E.c.id == event.id)
            .values(
                user_id=event.user_id,
                processed_at=event.processed_at,
                attempts=event.attempts,
                last_error=event.last_error,
                outcome=event.outcome,
            )
        )

    async def pending(self, received_before: datetime, limit: int) -> list[BillingEvent]:
        rows = await self._c.execute(
            select(_E)
            .where(_E.c.processed_at.is_(None), _E.c.received_at < received_before)
            .order_by(_E.c.received_at, _E.c.id)
            .limit(limit)
        )
        return [_event(r) for r in rows]

    async def for_user(self, user_id: str, limit: int) -> list[BillingEvent]:
        mine = select(_S.c.id).where(_S.c.user_id == user_id)
        rows = await self._c.execute(
            select(_E)
            .where((_E.c.user_id == user_id) | _E.c.subscription_id.in_(mine))
            .order_by(_E.c.received_at.desc(), _E.c.id.desc())
            .limit(limit)
        )
        return [_event(r) for r in rows]
