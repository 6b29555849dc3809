"""In-memory billing: subscriptions and webhook events, as the SQL adapter keeps them."""

from __future__ import annotations

import copy
from datetime import datetime

from chatsvg.adapters.memory.repository import MemoryRepository
from chatsvg.domain.billing.events import BillingEvent
from chatsvg.domain.billing.subscriptions import Subscription


class MemorySubscriptions(MemoryRepository):
    async def get(self, subscription_id: str) -> Subscription | None:
        found: Subscription | None = self._db.get("billing_subscriptions", subscription_id)
        return found

    async def for_user(self, user_id: str) -> list[Subscription]:
        rows = [s for s in self._db.scan("billing_subscriptions") if s.user_id == user_id]
        rows.sort(key=lambda s: s.id)
        rows.sort(key=lambda s: s.created_at, reverse=True)
        return [copy.copy(s) for s in rows]

    async def save(self, subscription: Subscription) -> None:
        stored = self._db.get("billing_subscriptions", subscription.id)
        if stored is None:
            self._db.insert("billing_subscriptions", subscription)
            return
        kept = copy.copy(subscription)
        kept.user_id, kept.created_at = stored.user_id, stored.created_at
        self._db.update("billing_subscriptions", kept)

    async def unsettled(self, limit: int, *, pending_since: datetime) -> list[Subscription]:
        rows = [
            s
            for s in self._db.scan("billing_subscriptions")
            if not s.status.ended
            and (not s.status.awaiting_activation or s.created_at >= pending_since)
        ]
        rows.sort(key=lambda s: (s.updated_at, s.id))
        return [copy.copy(s) for s in rows[:limit]]


class MemoryBillingEvents(MemoryRepository):
    async def record(self, event: BillingEvent) -> bool:
        if self._db.has("billing_events", event.id):
            return False
        self._db.insert("billing_events", event)
        return True

    async def get(self, event_id: str) -> BillingEvent | None:
        found: BillingEvent | None = self._db.get("billing_events", event_id)
        return found

    async def save(self, event: BillingEvent) -> None:
        self._db.update(
            "billing_events",
            event,
            ("user_id", "processed_at", "attempts", "last_error", "outcome"),
        )

    async def pending(self, received_before: datetime, limit: int) -> list[BillingEvent]:
        rows = [
            e
            for e in self._db.scan("billing_events")
            if e.processed_at is None and e.received_at < received_before
        ]
        rows.sort(key=lambda e: (e.received_at, e.id))
        return [copy.copy(e) for e in rows[:limit]]

    async def for_user(self, user_id: str, limit: int) -> list[BillingEvent]:
        mine = {s.id for s in self._db.scan("billing_subscriptions") if s.user_id == user_id}
        rows = [
            e
            for e in self._db.scan("billing_events")
            if e.user_id == user_id or e.subscription_id in mine
        ]
        rows.sort(key=lambda e: (e.received_at, e.id), reverse=True)
        return [copy.copy(e) for e in rows[:limit]]
