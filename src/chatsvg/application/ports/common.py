"""Ports every feature shares: the clock, the unit of work, the task queue and rate limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

# A position in a newest-first list: (created_at, id) of the last item already seen.
Position = tuple[datetime, str]


class Clock(Protocol):
    def now(self) -> datetime: ...


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
