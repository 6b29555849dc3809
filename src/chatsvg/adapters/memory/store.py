"""In-memory unit of work: the fake every use-case test runs against, with real transaction semantics.

A transaction holds one lock (transactions are serialisable) and works on copies of the tables;
`commit()` publishes them, leaving the block without it discards them. Records are copied in and out
so that a caller mutating an object it read changes nothing until it saves and commits.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from chatsvg.adapters.memory.accounts import MemoryIdentities, MemoryMailOutbox
from chatsvg.application.ports import DuplicateIdempotencyKey, Position
from chatsvg.domain.accounts.auth import PasswordResetToken, RefreshToken, RefreshTokenFamily
from chatsvg.domain.accounts.users import User
from chatsvg.domain.credits.ledger import LedgerEntry, LedgerReason
from chatsvg.domain.errors import EmailTaken, InsufficientCredits
from chatsvg.domain.generation.generations import SvgGeneration
from chatsvg.domain.generation.jobs import GenerationJob, JobStatus
from chatsvg.domain.notifications.notifications import Notification

_TABLES = (
    "users",
    "families",
    "tokens",
    "reset_tokens",
    "jobs",
    "generations",
    "ledger",
    "notifications",
    "oauth_identities",
    "mail_outbox",
)


def _newest_first(rows: list[Any], before: Position | None, limit: int) -> list[Any]:
    rows = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)
    if before is not None:
        rows = [r for r in rows if (r.created_at, r.id) < before]
    return [copy.copy(r) for r in rows[:limit]]


class MemoryStore:
    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Any]] = {name: {} for name in _TABLES}
        self._lock: asyncio.Lock | None = None

    @property
    def lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock


class _Repo:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def _t(self, name: str) -> dict[str, Any]:
        return self._uow.tables[name]


class MemoryUsers(_Repo):
    async def add(self, user: User) -> None:
        if any(u.email == user.email for u in self._t("users").values()):
            raise EmailTaken()
        self._t("users")[user.id] = copy.copy(user)

    async def get(self, user_id: str) -> User | None:
        user: User | None = self._t("users").get(user_id)
        return copy.copy(user) if user else None

    async def by_email(self, email: str) -> User | None:
        users: list[User] = list(self._t("users").values())
        for user in users:
            if user.email == email:
                return copy.copy(user)
        return None

    async def update(self, user: User) -> None:
        if user.id in self._t("users"):
            self._t("users")[user.id] = copy.copy(user)

    async def delete(self, user_id: str) -> None:
        self._t("users").pop(user_id, None)
        for name in ("families", "generations", "notifications"):
            table = self._t(name)
            for key in [k for k, v in table.items() if v.user_id == user_id]:
                del table[key]
        families = {f for f in self._t("families")}
        tokens = self._t("tokens")
        for key in [k for k, v in tokens.items() if v.family_id not in families]:
            del tokens[key]
        ledger = self._t("ledger")
        for key in [k for k, v in ledger.items() if v.user_id == user_id]:
            del ledger[key]


class MemorySessions(_Repo):
    async def add_family(self, family: RefreshTokenFamily) -> None:
        self._t("families")[family.id] = copy.copy(family)

    async def get_family(self, family_id: str) -> RefreshTokenFamily | None:
        family = self._t("families").get(family_id)
        return copy.copy(family) if family else None

    async def update_family(self, family: RefreshTokenFamily) -> None:
        self._t("families")[family.id] = copy.copy(family)

    async def live_families(self, user_id: str, now: datetime) -> list[RefreshTokenFamily]:
        return [
            copy.copy(f)
            for f in self._t("families").values()
            if f.user_id == user_id and f.is_live(now)
        ]

    async def revoke_all(
        self, user_id: str, now: datetime, *, keep: str | None = None
    ) -> list[str]:
        revoked = []
        for family in list(self._t("families").values()):
            if family.user_id == user_id and family.id != keep and family.revoked_at is None:
                self._t("families")[family.id] = replace(family, revoked_at=now)
                revoked.append(family.id)
        return revoked

    async def add_token(self, token: RefreshToken) -> None:
        self._t("tokens")[token.token_hash] = copy.copy(token)

    async def get_token(self, token_hash: str) -> RefreshToken | None:
        token = self._t("tokens").get(token_hash)
        return copy.copy(token) if token else None

    async def spend_token(self, token_hash: str, now: datetime) -> bool:
        token = self._t("tokens").get(token_hash)
        if token is None or token.spent_at is not None:
            return False
        self._t("tokens")[token_hash] = replace(token, spent_at=now)
        return True


class MemoryResetTokens(_Repo):
    async def add(self, token: PasswordResetToken) -> None:
        self._t("reset_tokens")[token.token_hash] = copy.copy(token)

    async def get(self, token_hash: str) -> PasswordResetToken | None:
        token = self._t("reset_tokens").get(token_hash)
        return copy.copy(token) if token else None

    async def use(self, token_hash: str, now: datetime) -> bool:
        token = self._t("reset_tokens").get(token_hash)
        if token is None or not token.usable(now):
            return False
        self._t("reset_tokens")[token_hash] = replace(token, used_at=now)
        return True

    async def retire_all(self, user_id: str, now: datetime) -> None:
        tokens = self._t("reset_tokens")
        for token_hash, token in list(tokens.items()):
            if token.user_id == user_id and token.used_at is None:
                tokens[token_hash] = replace(token, used_at=now)


class MemoryJobs(_Repo):
    async def add(self, job: GenerationJob) -> None:
        if job.idempotency_key and await self.by_idempotency_key(job.user_id, job.idempotency_key):
            raise DuplicateIdempotencyKey(job.idempotency_key)
        self._t("jobs")[job.id] = copy.copy(job)

    async def get(self, job_id: str) -> GenerationJob | None:
        job: GenerationJob | None = self._t("jobs").get(job_id)
        return copy.copy(job) if job else None

    async def hold_claimable(self, job_ids: list[str], now: datetime) -> list[GenerationJob]:
        # The store runs one unit of work at a time: reading is locking.
        jobs = self._t("jobs")
        found = (jobs[i] for i in sorted(set(job_ids)) if i in jobs)
        return [copy.copy(job) for job in found if job.claimable(now)]

    async def hold(self, job_ids: list[str]) -> list[GenerationJob]:
        jobs = self._t("jobs")
        return [copy.copy(jobs[i]) for i in sorted(set(job_ids)) if i in jobs]

    async def save_held(self, jobs: list[GenerationJob]) -> None:
        for job in jobs:
            self._t("jobs")[job.id] = copy.copy(job)

    async def by_idempotency_key(self, user_id: str, key: str) -> GenerationJob | None:
        jobs: list[GenerationJob] = list(self._t("jobs").values())
        for job in jobs:
            if job.user_id == user_id and job.idempotency_key == key:
                return copy.copy(job)
        return None

    async def save(
        self, job: GenerationJob, *, expected_status: JobStatus, expected_attempts: int
    ) -> bool:
        stored = self._t("jobs").get(job.id)
        if (
            stored is None
            or stored.status is not expected_status
            or stored.attempts != expected_attempts
        ):
            return False
        self._t("jobs")[job.id] = copy.copy(job)
        return True

    async def list_for_user(
        self, user_id: str, *, status: JobStatus | None, limit: int, before: Position | None
    ) -> list[GenerationJob]:
        rows = [
            j
            for j in self._t("jobs").values()
            if j.user_id == user_id and (status is None or j.status is status)
        ]
        return _newest_first(rows, before, limit)

    async def needing_attention(
        self, now: datetime, queued_before: datetime, limit: int
    ) -> list[GenerationJob]:
        rows = [
            j
            for j in self._t("jobs").values()
            if (
                j.status is JobStatus.RUNNING
                and j.lease_expires_at is not None
                and j.lease_expires_at <= now
            )
            or (j.status is JobStatus.QUEUED and j.updated_at <= queued_before)
        ]
        rows.sort(key=lambda j: j.updated_at)
        return [copy.copy(j) for j in rows[:limit]]

    async def live_for_user(
        self, user_id: str, *, finished_since: datetime, limit: int
    ) -> list[GenerationJob]:
        rows = [
            j
            for j in self._t("jobs").values()
            if j.user_id == user_id
            and (
                not j.status.terminal
                or (j.finished_at is not None and j.finished_at >= finished_since)
            )
        ]
        rows.sort(key=lambda j: (j.created_at, j.id), reverse=True)
        return [copy.copy(j) for j in rows[:limit]]

    async def delete_for_user(self, user_id: str) -> None:
        table = self._t("jobs")
        for key in [k for k, v in table.items() if v.user_id == user_id]:
            del table[key]


class MemoryGenerations(_Repo):
    async def add(self, generation: SvgGeneration) -> None:
        self._t("generations")[generation.id] = copy.copy(generation)

    async def add_many(self, generations: list[SvgGeneration]) -> None:
        for generation in generations:
            await self.add(generation)

    async def get(self, generation_id: str) -> SvgGeneration | None:
        generation = self._t("generations").get(generation_id)
        return copy.copy(generation) if generation else None

    async def get_many(self, generation_ids: list[str]) -> list[SvgGeneration]:
        table = self._t("generations")
        return [copy.copy(table[i]) for i in generation_ids if i in table]

    async def update(self, generation: SvgGeneration) -> None:
        if generation.id in self._t("generations"):
            self._t("generations")[generation.id] = copy.copy(generation)

    async def delete(self, generation_id: str) -> None:
        self._t("generations").pop(generation_id, None)

    async def list_for_user(
        self,
        user_id: str,
        *,
        limit: int,
        before: Position | None,
        style: str | None = None,
        model: str | None = None,
        privacy: bool | None = None,
    ) -> list[SvgGeneration]:
        rows = [
            g
            for g in self._t("generations").values()
            if g.user_id == user_id
            and (style is None or g.style == style)
            and (model is None or g.model == model)
            and (privacy is None or g.privacy is privacy)
        ]
        return _newest_first(rows, before, limit)

    async def list_public(
        self,
        *,
        limit: int,
        before: Position | None,
        style: str | None = None,
        model: str | None = None,
    ) -> list[SvgGeneration]:
        rows = [
            g
            for g in self._t("generations").values()
            if not g.privacy
            and (style is None or g.style == style)
            and (model is None or g.model == model)
        ]
        return _newest_first(rows, before, limit)

    async def keys_for_user(self, user_id: str) -> list[str]:
        return [g.storage_key for g in self._t("generations").values() if g.user_id == user_id]

    async def all_keys(self) -> list[str]:
        return [g.storage_key for g in self._t("generations").values()]


class MemoryLedger(_Repo):
    async def balance(self, user_id: str) -> int:
        return sum(e.delta for e in self._t("ledger").values() if e.user_id == user_id)

    async def balance_and_reserved(self, user_id: str) -> tuple[int, int]:
        reserved = sum(
            j.cost
            for j in self._t("jobs").values()
            if j.user_id == user_id and j.status is JobStatus.QUEUED and not j.charged
        )
        return await self.balance(user_id), reserved

    async def append(self, entry: LedgerEntry) -> bool:
        once_per_job = entry.reason in (
            LedgerReason.GENERATION_CHARGE,
            LedgerReason.GENERATION_REFUND,
        )
        if once_per_job and any(
            e.job_id == entry.job_id and e.reason == entry.reason
            for e in self._t("ledger").values()
        ):
            return False
        if entry.delta < 0 and await self.balance(entry.user_id) + entry.delta < 0:
            raise InsufficientCredits()
        self._t("ledger")[entry.id] = entry
        return True

    async def hold_balances(self, user_ids: set[str]) -> dict[str, int]:
        return {user_id: await self.balance(user_id) for user_id in user_ids}

    async def append_many(self, entries: list[LedgerEntry]) -> set[str]:
        before = dict(self._t("ledger"))
        written: set[str] = set()
        try:
            for entry in entries:
                if await self.append(entry):
                    written.add(entry.id)
        except InsufficientCredits:
            self._uow.tables["ledger"] = before
            raise
        return written

    async def entries(
        self, user_id: str, *, limit: int, before: Position | None
    ) -> list[LedgerEntry]:
        return _newest_first(
            [e for e in self._t("ledger").values() if e.user_id == user_id], before, limit
        )

    async def for_job(self, job_id: str) -> list[LedgerEntry]:
        return [e for e in self._t("ledger").values() if e.job_id == job_id]


class MemoryNotifications(_Repo):
    async def add(self, notification: Notification) -> bool:
        if notification.job_id and any(
            n.job_id == notification.job_id and n.type == notification.type
            for n in self._t("notifications").values()
        ):
            return False
        self._t("notifications")[notification.id] = notification
        return True

    async def add_many(self, notifications: list[Notification]) -> set[str]:
        return {n.id for n in notifications if await self.add(n)}

    async def latest(
        self, user_id: str, *, limit: int, before: Position | None
    ) -> list[Notification]:
        return _newest_first(
            [n for n in self._t("notifications").values() if n.user_id == user_id], before, limit
        )

    async def unread_count(self, user_id: str, since: datetime | None) -> int:
        return sum(
            1
            for n in self._t("notifications").values()
            if n.user_id == user_id and (since is None or n.created_at > since)
        )


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.tables: dict[str, dict[str, Any]] = {}
        self._committed = False
        self.users = MemoryUsers(self)
        self.sessions = MemorySessions(self)
        self.reset_tokens = MemoryResetTokens(self)
        self.jobs = MemoryJobs(self)
        self.generations = MemoryGenerations(self)
        self.ledger = MemoryLedger(self)
        self.notifications = MemoryNotifications(self)
        self.identities = MemoryIdentities({})
        self.mail_outbox = MemoryMailOutbox({})

    async def __aenter__(self) -> Self:
        await self._store.lock.acquire()
        self.tables = {name: dict(rows) for name, rows in self._store.tables.items()}
        self.identities = MemoryIdentities(self.tables["oauth_identities"])
        self.mail_outbox = MemoryMailOutbox(self.tables["mail_outbox"])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.tables = {}
        self._store.lock.release()

    async def commit(self) -> None:
        self._store.tables = {name: dict(rows) for name, rows in self.tables.items()}
        self._committed = True


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

    async def job_updated(self, user_id: str, payload: dict[str, Any]) -> None:
        self.events.append(("generation-job:update", user_id, payload))

    async def notification_created(self, user_id: str, payload: dict[str, Any]) -> None:
        self.events.append(("notification:new", user_id, payload))

    async def session_revoked(self, session_ids: list[str]) -> None:
        self.revoked.extend(session_ids)

    async def flush(self) -> None:
        self.flushed_at.append(len(self.events))  # how many events had been pushed by then
