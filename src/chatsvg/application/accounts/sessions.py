"""Sessions seen live a moment ago, so that authenticating a request need not read the database.

Every authenticated request checks that its access token's session (refresh-token family) has not
been revoked: sign-out, "sign out everywhere", a password reset or a detected refresh-token reuse
must end access at once, not when the access token expires. Reading the session row on every
request was a third of the accept path's work; this cache keeps the answer for a few seconds.

Revocation still takes effect at once: every revocation goes through the realtime publisher, which
announces it to every API process (Redis pub/sub) and each process forgets those sessions here.
The time-to-live only bounds how long a lost announcement (Redis briefly down) can keep a revoked
session usable. A revoked session is remembered as revoked for longer than that, so a database
read that began before the revocation cannot put it back as live afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TypeVar

V = TypeVar("V")


class LiveSessionCache:
    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_entries: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive; leave the cache out to disable it")
        self._ttl = ttl_seconds
        self._max = max_entries
        self._now = monotonic
        self._live: dict[str, tuple[str, float]] = {}  # session id -> (user id, fresh until)
        self._revoked: dict[str, float] = {}  # session id -> remembered until
        self._tombstone_seconds = max(60.0, 4 * ttl_seconds)

    def is_live(self, session_id: str, user_id: str) -> bool:
        entry = self._live.get(session_id)
        if entry is None:
            return False
        owner, fresh_until = entry
        if fresh_until <= self._now():
            del self._live[session_id]
            return False
        return owner == user_id

    def remember(self, session_id: str, user_id: str) -> None:
        now = self._now()
        revoked_until = self._revoked.get(session_id)
        if revoked_until is not None:
            if revoked_until > now:
                return
            del self._revoked[session_id]
        if len(self._live) >= self._max:
            self._evict(self._live, now, lambda entry: entry[1])
        self._live[session_id] = (user_id, now + self._ttl)

    def forget(self, session_ids: Iterable[str]) -> None:
        now = self._now()
        for session_id in session_ids:
            self._live.pop(session_id, None)
            if len(self._revoked) >= self._max:
                self._evict(self._revoked, now, lambda until: until)
            self._revoked[session_id] = now + self._tombstone_seconds

    def clear(self) -> None:
        """Forget every live session (revocations may have been missed); tombstones stay."""
        self._live.clear()

    def __len__(self) -> int:
        return len(self._live)

    @staticmethod
    def _evict(entries: dict[str, V], now: float, expiry: Callable[[V], float]) -> None:
        """Drop expired entries; if none had expired, drop the oldest tenth (insertion order)."""
        expired = [key for key, value in entries.items() if expiry(value) <= now]
        if not expired:
            expired = list(entries)[: max(1, len(entries) // 10)]
        for key in expired:
            del entries[key]
