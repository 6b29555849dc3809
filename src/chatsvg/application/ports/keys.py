"""Ports of API keys: the keys, their usage records, and the rates the public API is held to."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from chatsvg.application.ports.common import RateDecision
from chatsvg.domain.keys.keys import ApiKey
from chatsvg.domain.keys.usage import KeyUsage, UsageTotals


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...

    async def get(self, key_id: str) -> ApiKey | None: ...

    async def by_hash(self, key_hash: str) -> ApiKey | None: ...

    async def live_for_user(self, user_id: str, now: datetime) -> list[ApiKey]:
        """The user's keys neither revoked nor expired, newest first."""
        ...

    async def count_live(self, user_id: str, now: datetime) -> int: ...

    async def hold_owner(self, user_id: str) -> None:
        """Until the unit of work ends, another one holding the same user waits: two key creations
        of one user take turns, so both cannot pass the plan's count."""
        ...

    async def save(self, key: ApiKey) -> None: ...

    async def record_use(self, key_id: str, now: datetime) -> None:
        """One more call with the key: usage_count + 1 and last_used_at = now, in one statement."""
        ...


class KeyUsageRepository(Protocol):
    async def add(self, record: KeyUsage) -> None: ...

    async def totals_for_key(self, key_id: str) -> UsageTotals: ...

    async def totals_for_user(
        self, user_id: str, *, since: datetime | None, until: datetime | None
    ) -> UsageTotals: ...


class WindowLimiter(Protocol):
    """A moving-window counter whose limit is given with each hit (a key's own rate, its plan's)."""

    async def hit(
        self, bucket: str, key: str, *, limit: int, window_seconds: int
    ) -> RateDecision: ...
