"""Plans as the use cases see them: the catalogue, a user's plan and its limits, and the
per-window generation quota. Any feature may read a user's limits through `PlanBook`."""

from __future__ import annotations

from datetime import datetime

from chatsvg.application.ports import RateDecision, UnitOfWork, UnitOfWorkFactory, WindowLimiter
from chatsvg.domain.credits.plans import Plan, PlanCatalogue, RateLimits, check_generation_quota
from chatsvg.domain.errors import RateLimited


class PlanBook:
    """The plans on offer, and which one a user is on."""

    def __init__(self, catalogue: PlanCatalogue, uow: UnitOfWorkFactory) -> None:
        self.catalogue = catalogue
        self._uow = uow

    def plans(self) -> tuple[Plan, ...]:
        return self.catalogue.all()

    async def plan_of(self, user_id: str) -> Plan:
        """The user's plan (FREE for an unknown user)."""
        async with self._uow() as uow:
            return await plan_in(uow, self.catalogue, user_id)


async def plan_in(uow: UnitOfWork, catalogue: PlanCatalogue, user_id: str) -> Plan:
    """The user's plan, read in the caller's unit of work."""
    user = await uow.users.get(user_id)
    return catalogue.of(user.plan if user is not None else None)


async def enforce_generation_quota(
    uow: UnitOfWork,
    catalogue: PlanCatalogue | None,
    user_id: str,
    now: datetime,
    drawings: int = 1,
) -> None:
    """Raise QuotaExceeded (429) when the user's plan does not allow `drawings` more generations
    (a job's n) in the rolling window ending now. Nothing is read when quotas are off."""
    if catalogue is None or not catalogue.quotas:
        return
    plan = await plan_in(uow, catalogue, user_id)
    if plan.limits.generations_per_month is None:
        return
    used, oldest = await uow.plan_usage.generations_since(user_id, now - catalogue.window)
    check_generation_quota(catalogue, plan.plan, used=used, oldest=oldest, now=now, wanted=drawings)


# A rate window: (bucket, who, limit or None for unlimited, seconds).
Window = tuple[str, str, int | None, int]
MINUTE, HOUR, DAY = 60, 3600, 86_400


def plan_generation_windows(user_id: str, rates: RateLimits) -> list[Window]:
    """The plan's per-minute, per-hour and per-day rates of programmatic generations: one set of
    counters per user, shared by every way in (`POST /v1/svg/generate` and MCP's `generate_svg`),
    so the plan's rate is the user's total, not a rate per door."""
    return [
        ("plan-generate-minute", user_id, rates.per_minute, MINUTE),
        ("plan-generate-hour", user_id, rates.per_hour, HOUR),
        ("plan-generate-day", user_id, rates.per_day, DAY),
    ]


async def admit(limiter: WindowLimiter, windows: list[Window], refusal: str) -> RateDecision:
    """Count one use in every window (unlimited ones skipped); RateLimited with `refusal` at the
    first that is full. Answers the tightest window, for the X-RateLimit-* headers."""
    tightest: RateDecision | None = None
    for bucket, who, limit, seconds in windows:
        if limit is None:
            continue
        decision = await limiter.hit(bucket, who, limit=limit, window_seconds=seconds)
        if not decision.allowed:
            raise RateLimited(
                refusal,
                retry_after=decision.retry_after,
                limit=decision.limit,
                reset_at=decision.reset_at,
            )
        if tightest is None or decision.remaining < tightest.remaining:
            tightest = decision
    return tightest or RateDecision(True, 0, 0, 0)
