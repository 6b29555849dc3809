"""What the key feature needs to know of plans: how many keys, which API rates.

The plans themselves are the billing feature's (`domain/credits/plans.py`); the composition root
hands the key use cases `CataloguePlanRules` over the plan catalogue built from settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chatsvg.domain.credits.plans import PlanCatalogue, RateLimits


class KeyPlanRules(Protocol):
    def max_api_keys(self, plan: str | None) -> int | None:
        """How many live keys a user of this plan may have; None: no limit."""
        ...

    def api_rates(self, plan: str | None) -> RateLimits:
        """Generations allowed through the public API (and MCP) per minute, hour and day."""
        ...

    def api_access(self, plan: str | None) -> bool:
        """Whether the plan may use the public API at all."""
        ...


@dataclass(frozen=True)
class CataloguePlanRules:
    """The answers of the plan catalogue (`domain/credits/plans.py`, built from settings)."""

    catalogue: PlanCatalogue

    def max_api_keys(self, plan: str | None) -> int | None:
        return self.catalogue.limits_of(plan).max_api_keys

    def api_rates(self, plan: str | None) -> RateLimits:
        return self.catalogue.limits_of(plan).rate_limits

    def api_access(self, plan: str | None) -> bool:
        return self.catalogue.limits_of(plan).api_access
