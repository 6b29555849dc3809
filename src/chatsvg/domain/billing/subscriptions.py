"""Subscriptions as PayPal reports them, and the rules that turn them into a plan and credits.

Order-independence: an event is only a reason to look. What it leads to is decided from the
subscription's state as PayPal reports it when the event is handled (re-read from PayPal), and
from PayPal's own times (the sale's time, the subscription's start and status times), never from
the order events arrive in or the server's clock. Each grant of credits has a key derived from
those facts (`GrantKey`), and the ledger writes an entry once per key: a redelivered event, two
workers or the sweep catching up on a missed event all write the same key at most once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chatsvg.domain.credits.plans import PlanCatalogue, PlanName


class SubscriptionStatus(StrEnum):
    APPROVAL_PENDING = "APPROVAL_PENDING"
    APPROVED = "APPROVED"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"

    @classmethod
    def parse(cls, raw: str | None) -> SubscriptionStatus:
        try:
            return cls((raw or "").upper())
        except ValueError:
            return cls.APPROVAL_PENDING

    @property
    def ended(self) -> bool:
        """No more payments: the plan stays FREE whatever arrives later."""
        return self in (SubscriptionStatus.CANCELLED, SubscriptionStatus.EXPIRED)

    @property
    def awaiting_activation(self) -> bool:
        """Created, not active yet: the buyer has not approved it, or PayPal has not started it."""
        return self in (SubscriptionStatus.APPROVAL_PENDING, SubscriptionStatus.APPROVED)

    @property
    def paid_up(self) -> bool:
        return self is SubscriptionStatus.ACTIVE


@dataclass(frozen=True)
class RemoteSubscription:
    """A subscription as PayPal's API answers it (GET /v1/billing/subscriptions/{id})."""

    id: str
    status: SubscriptionStatus
    plan_id: str | None
    custom_id: str | None  # our user id, set when the subscription was created
    start_time: datetime | None
    status_update_time: datetime | None
    next_billing_time: datetime | None
    last_payment_time: datetime | None
    payer_id: str | None
    raw: dict[str, object]


@dataclass
class Subscription:
    """Our copy of a user's PayPal subscription."""

    id: str
    user_id: str
    plan_id: str | None
    status: SubscriptionStatus
    customer_id: str | None
    start_time: datetime | None
    status_update_time: datetime | None
    next_billing_time: datetime | None
    last_payment_time: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def open(
        cls, *, subscription_id: str, user_id: str, plan_id: str | None, status: str, now: datetime
    ) -> Subscription:
        """A subscription just created at PayPal, waiting for the buyer's approval."""
        return cls(
            id=subscription_id,
            user_id=user_id,
            plan_id=plan_id,
            status=SubscriptionStatus.parse(status),
            customer_id=None,
            start_time=None,
            status_update_time=None,
            next_billing_time=None,
            last_payment_time=None,
            created_at=now,
            updated_at=now,
        )

    def follow(self, remote: RemoteSubscription, now: datetime) -> None:
        """Take PayPal's state, unless it is older than what we hold (a stale read never moves a
        subscription back: an ended subscription stays ended)."""
        if self.status.ended and not remote.status.ended:
            return
        if (
            remote.status_update_time is not None
            and self.status_update_time is not None
            and remote.status_update_time < self.status_update_time
        ):
            return
        self.status = remote.status
        self.plan_id = remote.plan_id or self.plan_id
        self.customer_id = remote.payer_id or self.customer_id
        self.start_time = remote.start_time or self.start_time
        self.status_update_time = remote.status_update_time or self.status_update_time
        self.next_billing_time = remote.next_billing_time
        if remote.last_payment_time is not None and (
            self.last_payment_time is None or remote.last_payment_time > self.last_payment_time
        ):
            self.last_payment_time = remote.last_payment_time
        self.updated_at = now

    @property
    def ended_at(self) -> datetime | None:
        """When PayPal ended it (cancelled, suspended or expired), by PayPal's clock."""
        if self.status is SubscriptionStatus.ACTIVE:
            return None
        if self.status.awaiting_activation:
            return None
        return self.status_update_time


def plan_of(subscriptions: list[Subscription]) -> PlanName:
    """SUPPORTER while one of the user's subscriptions is active, else FREE."""
    if any(s.status.paid_up for s in subscriptions):
        return PlanName.SUPPORTER
    return PlanName.FREE


def months_between(start: datetime, when: datetime) -> int:
    """Whole calendar months from `start` to `when` (0 before the first monthly anniversary)."""
    if when <= start:
        return 0
    months = (when.year - start.year) * 12 + (when.month - start.month)
    anniversary = _add_months(start, months)
    if anniversary > when:
        months -= 1
    return max(0, months)


def _add_months(start: datetime, months: int) -> datetime:
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    month += 1
    days = [31, 29 if _leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return start.replace(year=year, month=month, day=min(start.day, days))


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


PERIOD_SLACK = timedelta(days=2)

_GRANT_NAMESPACE = uuid.UUID("6f0c7f86-1d2e-4c55-9a52-5e0c0b5a1e11")


@dataclass(frozen=True)
class Grant:
    """Credits a billing fact is worth, written once per `key` (the ledger's unique key)."""

    key: str  # a UUID derived from the fact: the ledger's once-per-key column
    reason: str  # PLAN_GRANT or PLAN_REFILL
    amount: int
    fact: str  # what it pays for, for people: "activation of I-...", "period 2 of I-..."


def grant_key(fact: str) -> str:
    return str(uuid.uuid5(_GRANT_NAMESPACE, fact))


def activation_grant(
    catalogue: PlanCatalogue, subscription_id: str, activation: str = "first"
) -> Grant | None:
    """The plan's starting credits, once per activation of the subscription (`activation`
    names a re-activation by PayPal's time of it)."""
    amount = catalogue.supporter.limits.starting_credits
    if amount <= 0:
        return None
    fact = f"activation {activation} of {subscription_id}"
    return Grant(grant_key(fact), "PLAN_GRANT", amount, fact)


def refill_grant(
    catalogue: PlanCatalogue, subscription: Subscription, sale_time: datetime
) -> Grant | None:
    """The refill a completed payment at `sale_time` (PayPal's time) is worth: one per paid
    period after the first (the activation grant covers the first), periods being calendar
    months from the subscription's start; nothing for a payment dated after the subscription
    ended."""
    amount = catalogue.supporter.limits.credit_refill_amount
    if amount <= 0 or subscription.start_time is None:
        return None
    ended = subscription.ended_at
    if ended is not None and sale_time > ended:
        return None
    # PayPal bills on the anniversary's date at a time of its own (often earlier in the day than
    # the start), possibly a day early by the merchant's time zone: periods begin PERIOD_SLACK
    # before each monthly anniversary of the start.
    period = months_between(subscription.start_time, sale_time + PERIOD_SLACK)
    if period < 1:
        return None
    fact = f"period {period} of {subscription.id}"
    return Grant(grant_key(fact), "PLAN_REFILL", amount, fact)
