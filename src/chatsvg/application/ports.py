"""The ports: what the use cases need from the outside world, as Protocols adapters satisfy structurally."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from chatsvg.domain.accounts.auth import PasswordResetToken, RefreshToken, RefreshTokenFamily
from chatsvg.domain.accounts.users import User
from chatsvg.domain.credits.ledger import LedgerEntry
from chatsvg.domain.generation.generations import SvgGeneration
from chatsvg.domain.generation.jobs import GenerationJob, JobStatus
from chatsvg.domain.notifications.notifications import Notification

# A position in a newest-first list: (created_at, id) of the last item already seen.
Position = tuple[datetime, str]


class Clock(Protocol):
    def now(self) -> datetime: ...


class PasswordHasher(Protocol):
    """argon2id in production. Async because hashing is deliberately slow and must not block the loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...

    async def waste_time(self, password: str) -> None:
        """Spend what a verification costs, so an unknown email answers in similar time."""
        ...


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    session_id: str
    expires_at: datetime


class AccessTokens(Protocol):
    def issue(self, user_id: str, session_id: str) -> tuple[str, datetime]: ...

    def verify(self, token: str) -> AccessClaims:
        """Raises TokenExpired for a well-signed token past `exp`, Unauthenticated for anything else."""
        ...


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Raises EmailTaken when the email is already registered."""
        ...

    async def get(self, user_id: str) -> User | None: ...

    async def by_email(self, email: str) -> User | None: ...

    async def update(self, user: User) -> None: ...

    async def delete(self, user_id: str) -> None:
        """The user and everything they own: sessions and their tokens, reset tokens, linked
        identities, jobs, generations, ledger entries and notifications."""
        ...


class SessionRepository(Protocol):
    """Refresh-token families and their tokens."""

    async def add_family(self, family: RefreshTokenFamily) -> None: ...

    async def get_family(self, family_id: str) -> RefreshTokenFamily | None: ...

    async def update_family(self, family: RefreshTokenFamily) -> None: ...

    async def live_families(self, user_id: str, now: datetime) -> list[RefreshTokenFamily]: ...

    async def revoke_all(
        self, user_id: str, now: datetime, *, keep: str | None = None
    ) -> list[str]:
        """Revoke every live family of the user except `keep`; returns the revoked family ids."""
        ...

    async def add_token(self, token: RefreshToken) -> None: ...

    async def get_token(self, token_hash: str) -> RefreshToken | None: ...

    async def spend_token(self, token_hash: str, now: datetime) -> bool:
        """Mark the token spent only if it is not already: True for exactly one of any racing callers."""
        ...


class ResetTokenRepository(Protocol):
    async def add(self, token: PasswordResetToken) -> None: ...

    async def get(self, token_hash: str) -> PasswordResetToken | None: ...

    async def use(self, token_hash: str, now: datetime) -> bool:
        """Spend a reset token once: True for exactly one caller."""
        ...

    async def retire_all(self, user_id: str, now: datetime) -> None:
        """Mark every unused reset token of the user as used (after a reset succeeded)."""
        ...


class JobRepository(Protocol):
    async def add(self, job: GenerationJob) -> None:
        """Raises DuplicateIdempotencyKey when (user, key) is already used."""
        ...

    async def get(self, job_id: str) -> GenerationJob | None: ...

    async def hold_claimable(self, job_ids: list[str], now: datetime) -> list[GenerationJob]:
        """The jobs among these ids that a worker may claim now (`GenerationJob.claimable`), held
        for this unit of work: they stay as read until it ends, so decisions made on them hold at
        commit. A job that another unit of work is changing is left out, not waited for: that
        one moves it on (and re-enqueues it if needed)."""
        ...

    async def hold(self, job_ids: list[str]) -> list[GenerationJob]:
        """The jobs among these ids, held for this unit of work: they stay as read until it ends
        (waiting for any that another unit of work is changing)."""
        ...

    async def save_held(self, jobs: list[GenerationJob]) -> None:
        """Write jobs this unit of work holds (read with `hold_claimable` or `hold`): nothing
        changed them since, so no compare-and-set is needed."""
        ...

    async def by_idempotency_key(self, user_id: str, key: str) -> GenerationJob | None: ...

    async def save(
        self, job: GenerationJob, *, expected_status: JobStatus, expected_attempts: int
    ) -> bool:
        """Write the job only if it is still in the expected state and attempt (a compare-and-set)."""
        ...

    async def list_for_user(
        self, user_id: str, *, status: JobStatus | None, limit: int, before: Position | None
    ) -> list[GenerationJob]: ...

    async def needing_attention(
        self, now: datetime, queued_before: datetime, limit: int
    ) -> list[GenerationJob]:
        """RUNNING jobs whose lease has run out, and QUEUED jobs older than `queued_before`."""
        ...

    async def live_for_user(
        self, user_id: str, *, finished_since: datetime, limit: int
    ) -> list[GenerationJob]:
        """The user's unfinished jobs and those finished at or after `finished_since`, newest
        first."""
        ...


class GenerationRepository(Protocol):
    async def add(self, generation: SvgGeneration) -> None: ...

    async def get(self, generation_id: str) -> SvgGeneration | None: ...

    async def add_many(self, generations: list[SvgGeneration]) -> None: ...

    async def get_many(self, generation_ids: list[str]) -> list[SvgGeneration]: ...

    async def update(self, generation: SvgGeneration) -> None: ...

    async def delete(self, generation_id: str) -> None: ...

    async def list_for_user(
        self,
        user_id: str,
        *,
        limit: int,
        before: Position | None,
        style: str | None = None,
        model: str | None = None,
        privacy: bool | None = None,
    ) -> list[SvgGeneration]: ...

    async def list_public(
        self,
        *,
        limit: int,
        before: Position | None,
        style: str | None = None,
        model: str | None = None,
    ) -> list[SvgGeneration]: ...

    async def keys_for_user(self, user_id: str) -> list[str]: ...

    async def all_keys(self) -> list[str]: ...


class CreditLedger(Protocol):
    """An entry tied to a job is written at most once per (job, reason), whatever the reason;
    entries tied to no job never collide. A balance never goes below zero."""

    async def balance(self, user_id: str) -> int: ...

    async def balance_and_reserved(self, user_id: str) -> tuple[int, int]:
        """The balance, and the cost of the user's queued jobs that are not charged yet (which
        those jobs will take from it), read together."""
        ...

    async def append(self, entry: LedgerEntry) -> bool:
        """Append an entry. Raises InsufficientCredits when it would make the balance negative
        (a duplicate included); else False (nothing written) when its job already has an entry
        of this reason."""
        ...

    async def hold_balances(self, user_ids: set[str]) -> dict[str, int]:
        """The users' balances, held for this unit of work: no other unit of work moves them
        until it ends."""
        ...

    async def append_many(self, entries: list[LedgerEntry]) -> set[str]:
        """Append entries: the ids of those written. An entry whose job already has one of its
        reason is skipped. Raises InsufficientCredits when the entries written for a user would,
        together, take the balance below zero; the unit of work must then be abandoned."""
        ...

    async def entries(
        self, user_id: str, *, limit: int, before: Position | None
    ) -> list[LedgerEntry]: ...

    async def for_job(self, job_id: str) -> list[LedgerEntry]: ...


class NotificationRepository(Protocol):
    async def add(self, notification: Notification) -> bool:
        """False (nothing written) when this (job, type) already has a notification."""
        ...

    async def add_many(self, notifications: list[Notification]) -> set[str]:
        """Add each as `add` does: the ids of those written."""
        ...

    async def latest(
        self, user_id: str, *, limit: int, before: Position | None
    ) -> list[Notification]: ...

    async def unread_count(self, user_id: str, since: datetime | None) -> int: ...


class UnitOfWork(Protocol):
    """One transaction: rolled back on leaving the block unless `commit()` was called."""

    users: UserRepository
    sessions: SessionRepository
    reset_tokens: ResetTokenRepository
    jobs: JobRepository
    generations: GenerationRepository
    ledger: CreditLedger
    notifications: NotificationRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


class DuplicateIdempotencyKey(Exception):
    """Raised by JobRepository.add when the user already used this idempotency key."""


# What a task carries: a string (a job id, a mail id) or a small JSON object. Never the record of
# work itself: that is in the database, and the task only says "look at it now".
TaskPayload = str | dict[str, Any]


class TaskQueue(Protocol):
    """Named tasks (`generate`, `send_mail`, ...), delivered at least once: every handler tolerates
    a duplicate or a task whose work was already done. Handlers are registered by name in a
    `TaskRegistry` (application/tasks.py); enqueueing a name nobody registered raises `UnknownTask`
    where the queue can tell (Dramatiq), else it is logged and dropped when due."""

    async def enqueue(
        self, task: str, payload: TaskPayload, *, delay_seconds: float = 0.0
    ) -> None: ...

    async def ping(self) -> None: ...


@dataclass(frozen=True)
class GenerationRequest:
    job_id: str
    prompt: str
    style: str
    model: str
    provider_model: str
    attempt: int


class GenerationFault(Exception):
    """A generator, sanitizer or storage failure with a stable job error code.

    `transient` faults are retried with backoff; permanent ones fail the job at once.
    """

    def __init__(
        self, code: str, message: str, *, transient: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient
        self.retry_after = retry_after


class SvgGenerator(Protocol):
    async def generate(self, request: GenerationRequest) -> str:
        """Return SVG text (possibly wrapped in prose or code fences). Raises GenerationFault."""
        ...


class SvgRejected(Exception):
    """The sanitizer could not turn the input into a safe SVG."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class SvgSanitizer(Protocol):
    def sanitize(self, svg: str) -> str:
        """Return a safe, normalised SVG document, or raise SvgRejected."""
        ...


class ObjectStorage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    async def signed_url(
        self, key: str, *, expires_in: int, filename: str, attachment: bool = True
    ) -> str:
        """An absolute URL that serves the object without credentials until it expires."""
        ...

    async def ping(self) -> None: ...


class RealtimePublisher(Protocol):
    async def job_updated(self, user_id: str, payload: dict[str, Any]) -> None: ...

    async def notification_created(self, user_id: str, payload: dict[str, Any]) -> None: ...

    async def session_revoked(self, session_ids: list[str]) -> None:
        """Disconnect the sockets opened with these sessions."""
        ...

    async def flush(self) -> None:
        """Wait until the updates published so far are on their way to every process. Called
        before a job is handed to the queue, so that the worker's next update of that job cannot
        reach a client before this one."""
        ...


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # epoch seconds
    retry_after: int = 0


class RateLimiter(Protocol):
    async def hit(self, purpose: str, key: str, cost: int = 1) -> RateDecision:
        """Count one use of `purpose` by `key` and say whether it is within the limit."""
        ...

    async def peek(self, purpose: str, key: str) -> RateDecision:
        """Say whether one more use would be within the limit, without counting it."""
        ...

    async def clear(self, purpose: str, key: str) -> None: ...


class GalleryCache(Protocol):
    """The public gallery's first pages, shared by every API process. Reads fall back to the
    database on any miss or failure; every change to what is public invalidates it at once."""

    async def get(self, key: str) -> list[SvgGeneration] | None: ...

    async def put(self, key: str, rows: list[SvgGeneration]) -> None: ...

    async def invalidate(self) -> None: ...


@dataclass(frozen=True)
class MailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Mailer(Protocol):
    async def send(self, message: MailMessage) -> None: ...
