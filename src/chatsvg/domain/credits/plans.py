"""Plans: what each plan gives and allows. Figures come from settings (the defaults are the
contract's); the rules here decide from them.

Every limit is a number, or None for "unlimited". A user's plan is the `plan` of their account
(FREE unless a paid subscription made it SUPPORTER); an unknown name reads as FREE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chatsvg.domain.errors import RateLimited


class PlanName(StrEnum):
    FREE = "FREE"
    SUPPORTER = "SUPPORTER"


@dataclass(frozen=True)
class RateLimits:
    """Requests of the public API and MCP generations allowed per minute, hour and day."""

    per_minute: int | None
    per_hour: int | None
    per_day: int | None


@dataclass(frozen=True)
class PlanLimits:
    starting_credits: int
    credit_refill_amount: int
    credit_refill_days: int
    generations_per_month: int | None  # per rolling window of `window_days` (30 by default)
    api_access: bool
    max_api_keys: int | None
    rate_limits: RateLimits
    support_level: str  # community | email | priority
    support_channel: str | None = None  # email | discord


@dataclass(frozen=True)
class Plan:
    plan: PlanName
    name: str
    description: str
    price: float  # USD per month
    limits: PlanLimits


@dataclass(frozen=True)
class PlanCatalogue:
    """The plans on offer. `quotas` off (CHATSVG_PLAN_QUOTAS=false) lifts the per-window
    generation quota for every plan; the other limits stay."""

    free: Plan
    supporter: Plan
    window_days: int = 30
    quotas: bool = True

    def all(self) -> tuple[Plan, ...]:
        return (self.free, self.supporter)

    def of(self, plan: str | None) -> Plan:
        """The plan of that name; FREE for anything else (an account's `plan` column)."""
        return self.supporter if plan == PlanName.SUPPORTER else self.free

    def limits_of(self, plan: str | None) -> PlanLimits:
        return self.of(plan).limits

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)


class QuotaExceeded(RateLimited):
    """The plan's generations of the current window are used up (429, with when one frees up)."""

    code = "QUOTA_EXCEEDED"
    default_message = "You have used this plan's generations for the current 30-day window."


def check_generation_quota(
    catalogue: PlanCatalogue,
    plan: str | None,
    *,
    used: int,
    oldest: datetime | None,
    now: datetime,
    wanted: int = 1,
) -> None:
    """Refuse a job of `wanted` drawings when `used` (the drawings counted within the rolling
    window ending `now`, the oldest of their jobs made at `oldest`) plus `wanted` would pass the
    plan's quota. The window rolls: drawings free up when the oldest job counted leaves it."""
    limit = catalogue.limits_of(plan).generations_per_month
    if not catalogue.quotas or limit is None or used + wanted <= limit:
        return
    reset = (oldest or now) + catalogue.window
    reset_at = int(reset.timestamp())
    left = max(0, limit - used)
    raise QuotaExceeded(
        f"Your plan allows {limit} generations per {catalogue.window_days} days"
        + (f"; {left} left, fewer than the {wanted} drawings asked for" if left else "")
        + f"; the next one frees up at {reset.strftime('%Y-%m-%dT%H:%M:%SZ')}.",
        retry_after=max(1, int((reset - now).total_seconds())),
        limit=limit,
        reset_at=reset_at,
        remaining=left,
    )


def default_catalogue(
    *,
    start_credits: int = 10,
    supporter_price: float = 5.0,
    supporter_credits: int = 300,
    supporter_refill: int = 300,
    refill_days: int = 30,
    free_generations: int | None = 30,
    supporter_generations: int | None = 300,
    free_api_keys: int | None = 1,
    supporter_api_keys: int | None = 5,
    free_api_access: bool = True,
    supporter_api_access: bool = True,
    free_rates: RateLimits = RateLimits(5, 50, 200),
    supporter_rates: RateLimits = RateLimits(20, 300, 2000),
    window_days: int = 30,
    quotas: bool = True,
) -> PlanCatalogue:
    """The two plans from their figures (the contract's defaults unless given)."""
    free = Plan(
        PlanName.FREE,
        "Free",
        "Everything you need to try ChatSVG and build small projects, at no cost.",
        0,
        PlanLimits(
            starting_credits=start_credits,
            credit_refill_amount=0,
            credit_refill_days=refill_days,
            generations_per_month=free_generations,
            api_access=free_api_access,
            max_api_keys=free_api_keys,
            rate_limits=free_rates,
            support_level="community",
            support_channel="discord",
        ),
    )
    supporter = Plan(
        PlanName.SUPPORTER,
        "Supporter",
        "Help cover model costs: more credits every month, more generations and API keys.",
        supporter_price,
        PlanLimits(
            starting_credits=supporter_credits,
            credit_refill_amount=supporter_refill,
            credit_refill_days=refill_days,
            generations_per_month=supporter_generations,
            api_access=supporter_api_access,
            max_api_keys=supporter_api_keys,
            rate_limits=supporter_rates,
            support_level="email",
            support_channel="email",
        ),
    )
    return PlanCatalogue(free, supporter, window_days=window_days, quotas=quotas)
