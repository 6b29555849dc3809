"""What each call made with an API key is recorded as, and the figures made from those records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class KeyUsage:
    id: str
    key_id: str
    user_id: str
    endpoint: str  # e.g. "POST /v1/svg/generate"
    status: int  # the HTTP status answered
    latency_ms: int
    credits: int  # credits the call committed (a queued generation's cost)
    created_at: datetime

    @property
    def succeeded(self) -> bool:
        return self.status < 400


@dataclass(frozen=True)
class UsageTotals:
    """Sums over usage records: what storage adapters answer."""

    total: int = 0
    succeeded: int = 0
    credits: int = 0
    latency_ms_sum: int = 0

    @property
    def failed(self) -> int:
        return self.total - self.succeeded

    @property
    def success_rate(self) -> float:
        """A percentage, 0 when there were no calls."""
        return round(100.0 * self.succeeded / self.total, 2) if self.total else 0.0

    @property
    def average_latency_ms(self) -> int:
        return round(self.latency_ms_sum / self.total) if self.total else 0

    @classmethod
    def of(cls, records: list[KeyUsage]) -> UsageTotals:
        return cls(
            total=len(records),
            succeeded=sum(1 for r in records if r.succeeded),
            credits=sum(r.credits for r in records),
            latency_ms_sum=sum(r.latency_ms for r in records),
        )
