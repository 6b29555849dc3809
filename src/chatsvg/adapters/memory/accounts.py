"""In-memory twins of the accounts repositories, on tables of a MemoryUnitOfWork's transaction."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime
from typing import Any

from chatsvg.application.accounts.ports import (
    ERASED_BODY,
    IdentityAlreadyLinked,
    LinkedIdentity,
    MailStatus,
    OutboxMail,
)


class MemoryIdentities:
    def __init__(self, rows: dict[Any, LinkedIdentity]) -> None:
        self._rows = rows

    async def get(self, provider: str, subject: str) -> LinkedIdentity | None:
        return self._rows.get((provider, subject))

    async def add(self, identity: LinkedIdentity) -> None:
        key = (identity.provider, identity.subject)
        if key in self._rows:
            raise IdentityAlreadyLinked(f"{identity.provider}:{identity.subject}")
        self._rows[key] = identity

    async def delete(self, provider: str, subject: str) -> None:
        self._rows.pop((provider, subject), None)

    async def for_user(self, user_id: str) -> list[LinkedIdentity]:
        return [i for i in self._rows.values() if i.user_id == user_id]


class MemoryMailOutbox:
    def __init__(self, rows: dict[str, OutboxMail]) -> None:
        self._rows = rows

    async def add(self, mail: OutboxMail) -> None:
        self._rows[mail.id] = copy.copy(mail)

    async def get(self, mail_id: str) -> OutboxMail | None:
        mail = self._rows.get(mail_id)
        return copy.copy(mail) if mail else None

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxMail]:
        due = sorted(
            (
                m
                for m in self._rows.values()
                if m.status == MailStatus.PENDING and m.next_attempt_at <= now
            ),
            key=lambda m: (m.next_attempt_at, m.id),
        )[:limit]
        claimed = []
        for mail in due:
            taken = replace(mail, attempts=mail.attempts + 1, next_attempt_at=lease_until)
            self._rows[mail.id] = taken
            claimed.append(copy.copy(taken))
        return claimed

    async def record(
        self,
        mail_id: str,
        *,
        status: MailStatus,
        next_attempt_at: datetime | None,
        last_error: str | None,
        sent_at: datetime | None,
        erase_body: bool,
    ) -> None:
        mail = self._rows.get(mail_id)
        if mail is None:
            return
        mail = replace(mail, status=status, last_error=last_error)
        if next_attempt_at is not None:
            mail.next_attempt_at = next_attempt_at
        if sent_at is not None:
            mail.sent_at = sent_at
        if erase_body:
            mail.message = replace(mail.message, text=ERASED_BODY, html=None)
        self._rows[mail_id] = mail

    async def recent(self, limit: int) -> list[OutboxMail]:
        rows = sorted(self._rows.values(), key=lambda m: (m.created_at, m.id), reverse=True)
        return [copy.copy(m) for m in rows[:limit]]
