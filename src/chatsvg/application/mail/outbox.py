"""The durable mail outbox: mails are recorded in the database first and delivered later, with retries.

Recording a mail is part of the use case's transaction (a reset token and its mail commit together,
or neither does). Delivery happens outside any request, as the `send_mail` task: the row is written
first, then `nudge()` enqueues the task, a wake-up that sends what is due (`deliver_due()`) through
the Mailer port. A failure schedules the next attempt with exponential backoff until
`max_attempts`, and never reaches the client that caused the mail. The periodic `sweep()` sends
what no task did: a lost wake-up, a retry that came due.

Other features enqueue with `MailOutbox.enqueue(MailMessage(..., reply_to=...), purpose="support")`
(its own transaction) or `MailOutbox.add_in(uow, ...)` (inside theirs, then `await nudge()` after
commit).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatsvg.application.accounts.ports import (
    AccountsUnitOfWork,
    AccountsUnitOfWorkFactory,
    MailStatus,
    OutboxMail,
)
from chatsvg.application.ids import new_id
from chatsvg.application.ports import Clock, Mailer, MailMessage, TaskPayload, TaskQueue

log = logging.getLogger(__name__)

SEND_MAIL = "send_mail"


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 8
    backoff_base_seconds: float = 30.0
    backoff_cap_seconds: float = 3600.0
    # A claimed mail is hidden from other deliveries this long (a crashed sender gives it back).
    lease_seconds: float = 120.0
    batch_size: int = 20

    def backoff(self, attempts: int) -> timedelta:
        """Delay after the `attempts`-th failed attempt: doubling, capped, with ±10% jitter."""
        delay = min(self.backoff_cap_seconds, self.backoff_base_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=delay * random.uniform(0.9, 1.1))


@dataclass(frozen=True)
class DeliveryRound:
    sent: int = 0
    failed: int = 0  # attempts that failed (and will be retried, or were given up)
    given_up: int = 0
    expired: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.expired


class MailOutbox:
    """Enqueue mails durably; deliver them with retries."""

    def __init__(
        self,
        *,
        uow: AccountsUnitOfWorkFactory,
        mailer: Mailer,
        clock: Clock,
        policy: DeliveryPolicy | None = None,
        tasks: TaskQueue | None = None,
    ) -> None:
        self._uow = uow
        self._mailer = mailer
        self._clock = clock
        self.policy = policy or DeliveryPolicy()
        self._listeners: list[Callable[[], None]] = []
        # Where `send_mail` goes (None: nothing delivers, e.g. mail is off; the rows wait).
        self._tasks = tasks
        # One delivery at a time per process, and at most one more waiting (it covers every mail
        # recorded before it starts): a burst of nudges is not a burst of claims.
        self._delivering = asyncio.Lock()
        self._delivery_waiting = False

    def on_enqueued(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever a mail is enqueued and committed."""
        self._listeners.append(listener)

    async def nudge(self, mail_id: str = "") -> None:
        """After the commit that recorded a mail: enqueue `send_mail`. A failed enqueue is only
        logged: the mail is recorded, and the sweep sends it."""
        for listener in self._listeners:
            listener()
        if self._tasks is None:
            return
        try:
            await self._tasks.enqueue(SEND_MAIL, mail_id)
        except Exception:
            log.warning("send_mail not enqueued; the outbox sweep sends mail %s", mail_id)

    async def enqueue(
        self,
        message: MailMessage,
        *,
        purpose: str = "support",
        expires_at: datetime | None = None,
        sensitive: bool = False,
    ) -> str:
        """Record `message` for delivery in a transaction of its own; returns the outbox id."""
        async with self._uow() as uow:
            mail_id = await self.add_in(
                uow, message, purpose=purpose, expires_at=expires_at, sensitive=sensitive
            )
            await uow.commit()
        await self.nudge(mail_id)
        return mail_id

    async def add_in(
        self,
        uow: AccountsUnitOfWork,
        message: MailMessage,
        *,
        purpose: str,
        expires_at: datetime | None = None,
        sensitive: bool = False,
    ) -> str:
        """Record `message` inside the caller's open transaction. Await `nudge()` after its commit."""
        now = self._clock.now()
        mail = OutboxMail(
            id=new_id(),
            purpose=purpose,
            message=message,
            created_at=now,
            next_attempt_at=now,
            expires_at=expires_at,
            sensitive=sensitive,
        )
        await uow.mail_outbox.add(mail)
        return mail.id

    async def send_task(self, payload: TaskPayload) -> float | None:
        """The `send_mail` task: one batch of due mail, which holds the mail `payload` names
        unless another process took it. Asks to run again at once (0) after a full batch."""
        if self._delivery_waiting:
            return None  # the delivery waiting to start will claim this mail too
        self._delivery_waiting = True
        async with self._delivering:
            self._delivery_waiting = False
            done = await self.deliver_due()
        return 0.0 if done.attempted >= self.policy.batch_size else None

    async def sweep(self) -> None:
        """The periodic sweep: everything due, batch after batch (a lost `send_mail`, a retry
        that came due, mail recorded while delivery was down)."""
        while await self.send_task("") is not None:
            pass

    async def deliver_due(self) -> DeliveryRound:
        """Send one batch of due mails. Never raises for a failed delivery; it is scheduled again."""
        policy = self.policy
        now = self._clock.now()
        async with self._uow() as uow:
            claimed = await uow.mail_outbox.claim_due(
                now, now + timedelta(seconds=policy.lease_seconds), policy.batch_size
            )
            await uow.commit()
        sent = failed = given_up = expired = 0
        for mail in claimed:
            if mail.expires_at is not None and self._clock.now() >= mail.expires_at:
                await self._record(mail, MailStatus.EXPIRED, error=mail.last_error)
                expired += 1
                continue
            try:
                await self._mailer.send(mail.message)
            except Exception as exc:
                failed += 1
                error = f"{type(exc).__name__}: {exc}"[:1000]
                if mail.attempts >= policy.max_attempts:
                    given_up += 1
                    log.error(
                        "mail %s (%s) not delivered after %d attempts: %s",
                        mail.id,
                        mail.purpose,
                        mail.attempts,
                        error,
                    )
                    await self._record(mail, MailStatus.FAILED, error=error)
                else:
                    retry_at = self._clock.now() + policy.backoff(mail.attempts)
                    log.warning(
                        "mail %s (%s) attempt %d failed, retrying at %s: %s",
                        mail.id,
                        mail.purpose,
                        mail.attempts,
                        retry_at.isoformat(),
                        error,
                    )
                    await self._record(mail, MailStatus.PENDING, error=error, retry_at=retry_at)
                continue
            await self._record(mail, MailStatus.SENT, error=None, sent_at=self._clock.now())
            sent += 1
        return DeliveryRound(sent, failed, given_up, expired)

    async def recent(self, limit: int = 50) -> list[OutboxMail]:
        async with self._uow() as uow:
            return await uow.mail_outbox.recent(limit)

    async def get(self, mail_id: str) -> OutboxMail | None:
        async with self._uow() as uow:
            return await uow.mail_outbox.get(mail_id)

    async def _record(
        self,
        mail: OutboxMail,
        status: MailStatus,
        *,
        error: str | None,
        retry_at: datetime | None = None,
        sent_at: datetime | None = None,
    ) -> None:
        async with self._uow() as uow:
            await uow.mail_outbox.record(
                mail.id,
                status=status,
                next_attempt_at=retry_at,
                last_error=error,
                sent_at=sent_at,
                erase_body=mail.sensitive and status != MailStatus.PENDING,
            )
            await uow.commit()
