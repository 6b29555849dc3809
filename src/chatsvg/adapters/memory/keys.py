"""In-memory API keys and the records of their use."""

from __future__ import annotations

import copy
from datetime import datetime

from chatsvg.adapters.memory.repository import MemoryRepository
from chatsvg.domain.keys.keys import ApiKey
from chatsvg.domain.keys.usage import KeyUsage, UsageTotals


class MemoryApiKeys(MemoryRepository):
    async def add(self, key: ApiKey) -> None:
        self._db.insert("api_keys", key)

    async def get(self, key_id: str) -> ApiKey | None:
        key: ApiKey | None = self._db.get("api_keys", key_id)
        return key

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        for key in self._db.scan("api_keys"):
            if key.key_hash == key_hash:
                return copy.copy(key)  # type: ignore[no-any-return]
        return None

    async def live_for_user(self, user_id: str, now: datetime) -> list[ApiKey]:
        found = [k for k in self._db.scan("api_keys") if k.user_id == user_id and k.live(now)]
        found.sort(key=lambda k: (k.created_at, k.id), reverse=True)
        return [copy.copy(k) for k in found]

    async def count_live(self, user_id: str, now: datetime) -> int:
        return len(await self.live_for_user(user_id, now))

    async def hold_owner(self, user_id: str) -> None:
        return None  # a unit of work holds the whole store

    async def save(self, key: ApiKey) -> None:
        self._db.update("api_keys", key)

    async def record_use(self, key_id: str, now: datetime) -> None:
        key = await self.get(key_id)
        if key is not None:
            key.usage_count += 1
            key.last_used_at = now
            self._db.update("api_keys", key)


class MemoryKeyUsage(MemoryRepository):
    async def add(self, record: KeyUsage) -> None:
        self._db.insert("api_key_usage", record)

    async def totals_for_key(self, key_id: str) -> UsageTotals:
        return UsageTotals.of([r for r in self._db.scan("api_key_usage") if r.key_id == key_id])

    async def totals_for_user(
        self, user_id: str, *, since: datetime | None, until: datetime | None
    ) -> UsageTotals:
        return UsageTotals.of(
            [
                r
                for r in self._db.scan("api_key_usage")
                if r.user_id == user_id
                and (since is None or r.created_at >= since)
                and (until is None or r.created_at <= until)
            ]
        )
