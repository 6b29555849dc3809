"""Plans as the use cases see them: the catalogue, a user's plan and its limits, and the
per-window generation quota. Any feature may read a user's limits through `PlanBook`."""

from __future__ import annotations

from datetime import datetime

from chatsvg.application.ports import UnitOfWork, UnitOfWorkFactory
from chatsvg.domain.credits.plans import Plan, PlanCatalogue, check_generation_quota


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
