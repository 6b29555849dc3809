"""Linked OAuth identities and the mail outbox over SQLAlchemy Core, in the transaction of a SqlUnitOfWork."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from chatsvg.adapters.sql.oauth_tables import mail_outbox, oauth_identities
from chatsvg.adapters.sql.uow import SqlUnitOfWork
from chatsvg.application.accounts.ports import (
    IdentityAlreadyLinked,
    LinkedIdentity,
    MailStatus,
    OutboxMail,
)
from chatsvg.application.ports import MailMessage, UnitOfWork

ERASED = "(erased after delivery)"


def _connection(uow: UnitOfWork) -> AsyncConnection:
    if not isinstance(uow, SqlUnitOfWork):
        raise TypeError(f"SqlAccountRecords needs a SqlUnitOfWork, got {type(uow).__name__}")
    return uow.connection


class SqlIdentities:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def get(self, provider: str, subject: str) -> LinkedIdentity | None:
        i = oauth_identities
        row = (
            await self._c.execute(select(i).where(i.c.provider == provider, i.c.subject == subject))
        ).first()
        return _identity(row) if row else None

    async def add(self, identity: LinkedIdentity) -> None:
        try:
            async with self._c.begin_nested():
                await self._c.execute(insert(oauth_identities).values(**identity.__dict__))
        except IntegrityError:
            raise IdentityAlreadyLinked(f"{identity.provider}:{identity.subject}") from None

    async def delete(self, provider: str, subject: str) -> None:
        i = oauth_identities
        await self._c.execute(delete(i).where(i.c.provider == provider, i.c.subject == subject))

    async def for_user(self, user_id: str) -> list[LinkedIdentity]:
        i = oauth_identities
        rows = await self._c.execute(select(i).where(i.c.user_id == user_id))
        return [_identity(r) for r in rows]


def _identity(row: Any) -> LinkedIdentity:
    return LinkedIdentity(row.provider, row.subject, row.user_id, row.email, row.created_at)


def _mail(row: Any) -> OutboxMail:
    return OutboxMail(
        id=row.id,
        purpose=row.purpose,
        message=MailMessage(
            to=row.to_address,
            subject=row.subject,
            text=row.text_body,
            html=row.html_body,
            reply_to=row.reply_to,
            headers=dict(row.headers or {}),
        ),
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        attempts=row.attempts,
        status=MailStatus(row.status),
        sent_at=row.sent_at,
        last_error=row.last_error,
        expires_at=row.expires_at,
        sensitive=row.sensitive,
    )


class SqlMailOutbox:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(self, mail: OutboxMail) -> None:
        m = mail.message
        await self._c.execute(
            insert(mail_outbox).values(
                id=mail.id,
                purpose=mail.purpose,
                status=mail.status.value,
                to_address=m.to,
                reply_to=m.reply_to,
                subject=m.subject,
                text_body=m.text,
                html_body=m.html,
                headers=dict(m.headers),
                attempts=mail.attempts,
                next_attempt_at=mail.next_attempt_at,
                created_at=mail.created_at,
                sent_at=mail.sent_at,
                expires_at=mail.expires_at,
                last_error=mail.last_error,
                sensitive=mail.sensitive,
            )
        )

    async def get(self, mail_id: str) -> OutboxMail | None:
        row = (
            await self._c.execute(select(mail_outbox).where(mail_outbox.c.id == mail_id))
        ).first()
        return _mail(row) if row else None

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxMail]:
        o = mail_outbox
        rows = list(
            await self._c.execute(
                select(o)
                .where(o.c.status == MailStatus.PENDING.value, o.c.next_attempt_at <= now)
                .order_by(o.c.next_attempt_at, o.c.id)
                .limit(limit)
            )
        )
        claimed = []
        for row in rows:
            # Compare-and-set on the due time: of several loops racing for a mail, one wins it.
            result = await self._c.execute(
                update(o)
                .where(
                    o.c.id == row.id,
                    o.c.status == MailStatus.PENDING.value,
                    o.c.next_attempt_at == row.next_attempt_at,
                )
                .values(next_attempt_at=lease_until, attempts=o.c.attempts + 1)
            )
            if result.rowcount == 1:
                mail = _mail(row)
                mail.attempts += 1
                mail.next_attempt_at = lease_until
                claimed.append(mail)
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
        values: dict[str, Any] = {"status": status.value, "last_error": last_error}
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        if sent_at is not None:
            values["sent_at"] = sent_at
        if erase_body:
            values.update(text_body=ERASED, html_body=None)
        await self._c.execute(update(mail_outbox).where(mail_outbox.c.id == mail_id).values(values))

    async def recent(self, limit: int) -> list[OutboxMail]:
        o = mail_outbox
        rows = await self._c.execute(
            select(o).order_by(o.c.created_at.desc(), o.c.id.desc()).limit(limit)
        )
        return [_mail(r) for r in rows]


class SqlAccountRecords:
    """AccountRecords for SqlUnitOfWork: the repositories use the unit of work's connection."""

    def identities(self, uow: UnitOfWork) -> SqlIdentities:
        return SqlIdentities(_connection(uow))

    def outbox(self, uow: UnitOfWork) -> SqlMailOutbox:
        return SqlMailOutbox(_connection(uow))
