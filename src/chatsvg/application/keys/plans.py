"""What the key feature needs to know of plans: how many keys, which API rates.

The plans themselves are the billing feature's (`domain/credits/plans.py`); the composition root
hands the key use cases an object that answers these two questions from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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


@dataclass(frozen=True)
class FixedPlanRules:
    """The contract's figures, for tests and until the plan catalogue answers (FREE: 1 key, 5/50/200
    generations per minute/hour/day; SUPPORTER: 5 keys, 20/300/2000)."""

    free_keys: int | None = 1
    supporter_keys: int | None = 5
    free_rates: ApiRates = ApiRates(5, 50, 200)
    supporter_rates: ApiRates = ApiRates(20, 300, 2000)

    def max_api_keys(self, plan: str | None) -> int | None:
        return self.supporter_keys if plan == "SUPPORTER" else self.free_keys

    def api_rates(self, plan: str | None) -> ApiRates:
        return self.supporter_rates if plan == "SUPPORTER" else self.free_rates
