"""In-memory unit of work: the fake every use-case test runs against, with real transaction semantics.

A transaction holds one lock (transactions are serialisable) and works on a copy of the tables;
`commit()` publishes it, leaving the block without it discards it. The tables keep the SQL
schema's keys and cascades (`tables.py`); the repositories, one per aggregate as in the SQL
adapter, live beside this module by feature.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Self

from chatsvg.adapters.memory.accounts import (
    MemoryIdentities,
    MemoryMailOutbox,
    MemoryResetTokens,
    MemorySessions,
    MemoryUsers,
)
from chatsvg.adapters.memory.admin import (
    MemoryAdminFigures,
    MemoryAdminLinks,
    MemoryAdminSessions,
)
from chatsvg.adapters.memory.authorization import MemoryGrants, MemoryOAuthClients
from chatsvg.adapters.memory.billing import MemoryBillingEvents, MemorySubscriptions
from chatsvg.adapters.memory.credits import MemoryLedger
from chatsvg.adapters.memory.generation import MemoryGenerations, MemoryJobs
from chatsvg.adapters.memory.keys import MemoryApiKeys, MemoryKeyUsage
from chatsvg.adapters.memory.notifications import MemoryNotifications
from chatsvg.adapters.memory.plans import MemoryPlanUsage
from chatsvg.adapters.memory.tables import MemoryTables


class MemoryStore:
    """The committed tables, shared by the units of work made on this store."""

    def __init__(self) -> None:
        self.tables = MemoryTables()
        self._lock: asyncio.Lock | None = None

    @property
    def lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._tables: MemoryTables | None = None
        self.users = MemoryUsers(self)
        self.sessions = MemorySessions(self)
        self.reset_tokens = MemoryResetTokens(self)
        self.identities = MemoryIdentities(self)
        self.mail_outbox = MemoryMailOutbox(self)
        self.admin_links = MemoryAdminLinks(self)
        self.admin_sessions = MemoryAdminSessions(self)
        self.admin_figures = MemoryAdminFigures(self)
        self.jobs = MemoryJobs(self)
        self.generations = MemoryGenerations(self)
        self.ledger = MemoryLedger(self)
        self.notifications = MemoryNotifications(self)
        self.authz_clients = MemoryOAuthClients(self)
        self.authz_grants = MemoryGrants(self)
        self.plan_usage = MemoryPlanUsage(self)
        self.subscriptions = MemorySubscriptions(self)
        self.billing_events = MemoryBillingEvents(self)
        self.api_keys = MemoryApiKeys(self)
        self.key_usage = MemoryKeyUsage(self)

    @property
    def tables(self) -> MemoryTables:
        assert self._tables is not None, "use the unit of work as `async with`"
        return self._tables

    async def __aenter__(self) -> Self:
        await self._store.lock.acquire()
        self._tables = self._store.tables.copy()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._tables = None
        self._store.lock.release()

    async def commit(self) -> None:
        # Later writes in the same block work on a copy of what was just published.
        self._store.tables = self.tables
        self._tables = self.tables.copy()


class MemoryObjectStorage:
    """Object storage in a dict, for use-case tests. Signed URLs are opaque and never served."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = (data, content_type)

    async def get(self, key: str) -> bytes | None:
        found = self.objects.get(key)
        return found[0] if found else None

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    async def exists(self, key: str) -> bool:
        return key in self.objects

    async def signed_url(
        self, key: str, *, expires_in: int, filename: str, attachment: bool = True
    ) -> str:
        return f"memory://{key}?expires_in={expires_in}&attachment={int(attachment)}"

    async def ping(self) -> None:
        return None

    async def keys(self) -> list[str]:
        return list(self.objects)


class RecordingRealtime:
    """A realtime publisher that remembers what it was asked to push (for use-case tests)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.revoked: list[str] = []
        self.flushed_at: list[int] = []
        self.drafts: list[tuple[str, dict[str, Any]]] = []  # apart: they come and go as they may

    async def job_updated(self, user_id: str, payload: dict[str, Any]) -> None:
        self.events.append(("generation-job:update", user_id, payload))

    async def notification_created(self, user_id: str, payload: dict[str, Any]) -> None:
        self.events.append(("notification:new", user_id, payload))

    async def job_draft(self, user_id: str, payload: dict[str, Any]) -> None:
        self.drafts.append((user_id, payload))

    async def session_revoked(self, session_ids: list[str]) -> None:
        self.revoked.extend(session_ids)

    async def flush(self) -> None:
        self.flushed_at.append(len(self.events))  # how many events had been pushed by then
