"""How often and when a job attempt is tried again."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    invalid_svg_attempts: int = (
        2  # model calls before an unusable answer becomes a permanent INVALID_SVG
    )
    lease_seconds: float = 120.0
    stale_queued_seconds: float = 90.0
    # Pauses before running a claim, finish or fault transaction again after it failed (a
    # dropped database connection, a failover): the job's progress is kept instead of waiting
    # for the lease and the reaper, and a finished SVG is not made a second time.
    transaction_retry_pauses: tuple[float, ...] = (0.2, 1.0, 3.0)

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """Exponential backoff with full jitter, never shorter than the provider's own hint."""
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** max(0, attempt - 1)))
        delay = random.uniform(ceiling / 2, ceiling)
        return max(delay, hint or 0.0)
