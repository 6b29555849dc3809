"""OAuth identities linked to users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from chatsvg.adapters.sql.oauth_tables import oauth_identities as _I
from chatsvg.adapters.sql.repositories.base import SqlRepository
from chatsvg.application.accounts.ports import IdentityAlreadyLinked, LinkedIdentity


def _identity(row: Any) -> LinkedIdentity:
    return LinkedIdentity(row.provider, row.subject, row.user_id, row.email, row.created_at)


class SqlIdentities(SqlRepository):
    async def get(self, provider: str, subject: str) -> LinkedIdentity | None:
        row = (
            await self._c.execute(
                select(_I).where(_I.c.provider == provider, _I.c.subject == subject)
            )
        ).first()
        return _identity(row) if row else None

    async def add(self, identity: LinkedIdentity) -> None:
        # In a savepoint: a lost race leaves the caller's transaction usable.
        try:
            async with self._c.begin_nested():
                await self._c.execute(insert(_I).values(**identity.__dict__))
        except IntegrityError:
            raise IdentityAlreadyLinked(f"{identity.provider}:{identity.subject}") from None

    async def delete(self, provider: str, subject: str) -> None:
        await self._c.execute(delete(_I).where(_I.c.provider == provider, _I.c.subject == subject))

    async def for_user(self, user_id: str) -> list[LinkedIdentity]:
        rows = await self._c.execute(select(_I).where(_I.c.user_id == user_id))
        return [_identity(r) for r in rows]
