"""JSON of plans (GET /api/plans) and of billing (/api/paypal/*)."""

from __future__ import annotations

from typing import Any

from chatsvg.application.billing.service import BillingStatus
from chatsvg.domain.credits.plans import Plan
from chatsvg.entrypoints.http.schemas import Answer


class RateLimitsJson(Answer):
    per_minute: int | None
    per_hour: int | None
    per_day: int | None


class PlanLimitsJson(Answer):
    starting_credits: int
    credit_refill_amount: int
    credit_refill_days: int
    generations_per_month: int | None
    api_access: bool
    max_api_keys: int | None
    rate_limits: RateLimitsJson
    support_level: str
    support_channel: str | None


class PlanJson(Answer):
    plan: str
    name: str
    description: str
    price: float | int
    limits: PlanLimitsJson


class BillingAvailability(Answer):
    provider: str
    enabled: bool  # false: /api/paypal/* answer 503 BILLING_DISABLED


class PlansEnvelope(Answer):
    plans: dict[str, PlanJson]
    billing: BillingAvailability


def plan_json(plan: Plan) -> PlanJson:
    limits = plan.limits
    rates = limits.rate_limits
    price: float | int = int(plan.price) if float(plan.price).is_integer() else plan.price
    return PlanJson(
        plan=plan.plan.value,
        name=plan.name,
        description=plan.description,
        price=price,
        limits=PlanLimitsJson(
            starting_credits=limits.starting_credits,
            credit_refill_amount=limits.credit_refill_amount,
            credit_refill_days=limits.credit_refill_days,
            generations_per_month=limits.generations_per_month,
            api_access=limits.api_access,
            max_api_keys=limits.max_api_keys,
            rate_limits=RateLimitsJson(
                per_minute=rates.per_minute, per_hour=rates.per_hour, per_day=rates.per_day
            ),
            support_level=limits.support_level,
            support_channel=limits.support_channel,
        ),
    )


def plans_json(plans: tuple[Plan, ...], *, billing_enabled: bool) -> PlansEnvelope:
    return PlansEnvelope(
        plans={p.plan.value: plan_json(p) for p in plans},
        billing=BillingAvailability(provider="paypal", enabled=billing_enabled),
    )


class SubscriptionCreated(Answer):
    subscription_id: str
    status: str
    approve_url: str | None


class Ok(Answer):
    ok: bool


class PayPalState(Answer):
    customer_id: str | None
    subscription_id: str | None
    status: str | None
    plan_id: str | None
    remote: dict[str, Any] | None  # PayPal's own subscription object, as PayPal answers it


class BillingStatusJson(Answer):
    plan: str
    credits: int
    paypal: PayPalState


def billing_status_json(status: BillingStatus) -> BillingStatusJson:
    sub = status.subscription
    return BillingStatusJson(
        plan=status.plan,
        credits=status.credits,
        paypal=PayPalState(
            customer_id=sub.customer_id if sub else None,
            subscription_id=sub.id if sub else None,
            status=sub.status.value if sub else None,
            plan_id=sub.plan_id if sub else None,
            remote=status.remote,
        ),
    )
