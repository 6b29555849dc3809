"""What the key feature needs to know of plans: how many keys, which API rates.

The plans themselves are the billing feature's (`domain/credits/plans.py`); the composition root
hands the key use cases `CataloguePlanRules` over the plan catalogue built from settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chatsvg.domain.credits.plans import PlanCatalogue


@dataclass(frozen=True)
class ApiRates:
    """Generations allowed through the public API (and MCP) per minute, hour and day; None: no limit."""

    per_minute: int | None
    per_hour: int | None
    per_day: int | None


class KeyPlanRules(Protocol):
    def max_api_keys(self, plan: str | None) -> int | None:
        """How many live keys a user of this plan may have; None: no limit."""
        ...

    def api_rates(self, plan: str | None) -> ApiRates: ...

    def api_access(self, plan: str | None) -> bool:
        """Whether the plan may use the public API at all."""
        ...


@dataclass(frozen=True)
class CataloguePlanRules:
    """The answers of the plan catalogue (`domain/credits/plans.py`, built from settings)."""

    catalogue: PlanCatalogue

    def max_api_keys(self, plan: str | None) -> int | None:
        return self.catalogue.limits_of(plan).max_api_keys

    def api_rates(self, plan: str | None) -> ApiRates:
        rates = self.catalogue.limits_of(plan).rate_limits
        return ApiRates(rates.per_minute, rates.per_hour, rates.per_day)

    def api_access(self, plan: str | None) -> bool:
        return self.catalogue.limits_of(plan).api_access


@dataclass(frozen=True)
class FixedPlanRules:
    """The contract's figures, fixed (FREE: 1 key, 5/50/200 generations per minute/hour/day;
    SUPPORTER: 5 keys, 20/300/2000), for tests that need no settings."""

    free_keys: int | None = 1
    supporter_keys: int | None = 5
    free_rates: ApiRates = ApiRates(5, 50, 200)
    supporter_rates: ApiRates = ApiRates(20, 300, 2000)

    def max_api_keys(self, plan: str | None) -> int | None:
        return self.supporter_keys if plan == "SUPPORTER" else self.free_keys

    def api_rates(self, plan: str | None) -> ApiRates:
        return self.supporter_rates if plan == "SUPPORTER" else self.free_rates

    def api_access(self, plan: str | None) -> bool:
        return True
