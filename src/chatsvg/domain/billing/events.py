"""Webhook events: what PayPal sent, recorded once per event id, and handled until done.

An event is recorded only after its signature was verified, keyed by PayPal's event id. It is
marked done only once its effects are written (in the same unit of work); a failure leaves it
pending, so PayPal's redelivery or the sweep runs it again: an event that failed once is never
"seen" and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from chatsvg.domain.errors import ValidationFailed

MAX_ATTEMPTS = 10  # after this many failed runs the sweep stops retrying an event (admin replay)


class EventKind(StrEnum):
    ACTIVATED = "ACTIVATED"  # BILLING.SUBSCRIPTION.ACTIVATED / RE-ACTIVATED
    SALE = "SALE"  # PAYMENT.SALE.COMPLETED
    ENDED = "ENDED"  # CANCELLED / SUSPENDED / EXPIRED
    UPDATED = "UPDATED"  # anything else about a subscription: re-read it
    IGNORED = "IGNORED"  # not about subscriptions


_KINDS = {
    "BILLING.SUBSCRIPTION.ACTIVATED": EventKind.ACTIVATED,
    "BILLING.SUBSCRIPTION.RE-ACTIVATED": EventKind.ACTIVATED,
    "PAYMENT.SALE.COMPLETED": EventKind.SALE,
    "BILLING.SUBSCRIPTION.CANCELLED": EventKind.ENDED,
    "BILLING.SUBSCRIPTION.SUSPENDED": EventKind.ENDED,
    "BILLING.SUBSCRIPTION.EXPIRED": EventKind.ENDED,
}


@dataclass
class BillingEvent:
    id: str
    event_type: str
    subscription_id: str | None
    user_id: str | None
    payload: dict[str, Any]
    received_at: datetime
    processed_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    outcome: str | None = None

    @classmethod
    def receive(cls, payload: Any, now: datetime) -> BillingEvent:
        """The event in a verified webhook body; refused when it names no id or type."""
        if not isinstance(payload, dict):
            raise ValidationFailed("The webhook body is not a JSON object.")
        event_id, event_type = payload.get("id"), payload.get("event_type")
        if not isinstance(event_id, str) or not event_id or len(event_id) > 64:
            raise ValidationFailed("The webhook event has no valid id.")
        if not isinstance(event_type, str) or not event_type or len(event_type) > 64:
            raise ValidationFailed("The webhook event has no valid event_type.")
        return cls(event_id, event_type, subscription_of(payload), None, payload, now)

    @property
    def kind(self) -> EventKind:
        kind = _KINDS.get(self.event_type)
        if kind is not None:
            return kind
        if self.event_type.startswith("BILLING.SUBSCRIPTION.") and self.subscription_id:
            return EventKind.UPDATED
        return EventKind.IGNORED

    @property
    def done(self) -> bool:
        return self.processed_at is not None

    @property
    def resource(self) -> dict[str, Any]:
        resource = self.payload.get("resource")
        return resource if isinstance(resource, dict) else {}

    @property
    def sale_time(self) -> datetime | None:
        """A completed sale's time, by PayPal's clock."""
        return parse_time(self.resource.get("create_time")) or parse_time(
            self.resource.get("update_time")
        )

    @property
    def activation(self) -> str:
        """Which activation an ACTIVATED event announces: the first one, or a re-activation named
        by PayPal's time of it."""
        if self.event_type.endswith("RE-ACTIVATED"):
            when = self.resource.get("status_update_time") or self.payload.get("create_time")
            return f"re-activation at {when}"
        return "first"

    def finish(self, now: datetime, outcome: str) -> None:
        self.processed_at = now
        self.outcome = outcome[:200]
        self.last_error = None

    def reopen(self) -> None:
        """An operator's replay: handled again from scratch (its grants stay once-only)."""
        self.processed_at = None
        self.attempts = 0
        self.last_error = None
        self.outcome = None

    def failed(self, error: str) -> None:
        self.attempts += 1
        self.last_error = error[:1000]

    def attach(self, user_id: str | None) -> None:
        self.user_id = user_id

    def retry_delay(self) -> float | None:
        """Seconds before the next run after a failure; None when the sweep should stop."""
        if self.attempts >= MAX_ATTEMPTS:
            return None
        return float(min(600, 2 ** min(self.attempts, 10)))


def subscription_of(payload: dict[str, Any]) -> str | None:
    """The subscription an event is about: the resource itself for BILLING.SUBSCRIPTION.*, the
    sale's billing agreement for PAYMENT.SALE.*."""
    resource = payload.get("resource")
    if not isinstance(resource, dict):
        return None
    event_type = str(payload.get("event_type", ""))
    value = (
        resource.get("billing_agreement_id")
        if event_type.startswith("PAYMENT.")
        else resource.get("id")
    )
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time as PayPal writes it ("2026-01-01T10:00:00Z"), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed
