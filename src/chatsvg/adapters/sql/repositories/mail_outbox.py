"""The durable mail outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from chatsvg.adapters.sql.oauth_tables import mail_outbox as _O
from chatsvg.adapters.sql.repositories.base import SqlRepository
from chatsvg.application.accounts.ports import ERASED_BODY, MailStatus, OutboxMail
from chatsvg.application.ports import MailMessage


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


class SqlMailOutbox(SqlRepository):
    async def add(self, mail: OutboxMail) -> None:
        m = mail.message
        await self._c.execute(
            insert(_O).values(
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
        row = (await self._c.execute(select(_O).where(_O.c.id == mail_id))).first()
        return _mail(row) if row else None

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxMail]:
        rows = list(
            await self._c.execute(
                select(_O)
                .where(_O.c.status == MailStatus.PENDING.value, _O.c.next_attempt_at <= now)
                .order_by(_O.c.next_attempt_at, _O.c.id)
                .limit(limit)
            )
        )
        claimed = []
        for row in rows:
            # Compare-and-set on the due time: of several loops racing for a mail, one wins it.
            result = await self._c.execute(
                update(_O)
                .where(
                    _O.c.id == row.id,
                    _O.c.status == MailStatus.PENDING.value,
                    _O.c.next_attempt_at == row.next_attempt_at,
                )
                .values(next_attempt_at=lease_until, attempts=_O.c.attempts + 1)
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
            values.update(text_body=ERASED_BODY, html_body=None)
        await self._c.execute(update(_O).where(_O.c.id == mail_id).values(values))

    async def recent(self, limit: int) -> list[OutboxMail]:
        rows = await self._c.execute(
            select(_O).order_by(_O.c.created_at.desc(), _O.c.id.desc()).limit(limit)
        )
        return [_mail(r) for r in rows]
