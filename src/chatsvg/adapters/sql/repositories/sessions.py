"""Sessions: refresh-token families and the tokens of each family."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from chatsvg.adapters.sql import tables as t
from chatsvg.adapters.sql.repositories.base import SqlRepository
from chatsvg.domain.accounts.auth import RefreshToken, RefreshTokenFamily

_F = t.refresh_families
_TOK = t.refresh_tokens
# Read on every token refresh: built once.
_FAMILY_BY_ID = select(_F).where(_F.c.id == bindparam("family_id"))


def _family(row: Any) -> RefreshTokenFamily:
    return RefreshTokenFamily(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        remember_me=row.remember_me,
        revoked_at=row.revoked_at,
        user_agent=row.user_agent,
        ip_address=row.ip_address,
    )


class SqlSessions(SqlRepository):
    async def add_family(self, family: RefreshTokenFamily) -> None:
        await self._c.execute(insert(_F).values(**family.__dict__))

    async def get_family(self, family_id: str) -> RefreshTokenFamily | None:
        row = (await self._c.execute(_FAMILY_BY_ID, {"family_id": family_id})).first()
        return _family(row) if row else None

    async def update_family(self, family: RefreshTokenFamily) -> None:
        values = {k: v for k, v in family.__dict__.items() if k != "id"}
        await self._c.execute(update(_F).where(_F.c.id == family.id).values(**values))

    async def live_families(self, user_id: str, now: datetime) -> list[RefreshTokenFamily]:
        # RefreshTokenFamily.is_live in SQL.
        rows = await self._c.execute(
            select(_F).where(
                _F.c.user_id == user_id, _F.c.revoked_at.is_(None), _F.c.expires_at > now
            )
        )
        return [_family(r) for r in rows]

    async def revoke_all(
        self, user_id: str, now: datetime, *, keep: str | None = None
    ) -> list[str]:
        cond = [_F.c.user_id == user_id, _F.c.revoked_at.is_(None)]
        if keep is not None:
            cond.append(_F.c.id != keep)
        revoked = await self._c.execute(
            update(_F).where(*cond).values(revoked_at=now).returning(_F.c.id)
        )
        return [row.id for row in revoked]

    async def add_token(self, token: RefreshToken) -> None:
        await self._c.execute(insert(_TOK).values(**token.__dict__))

    async def get_token(self, token_hash: str) -> RefreshToken | None:
        row = (await self._c.execute(select(_TOK).where(_TOK.c.token_hash == token_hash))).first()
        return (
            RefreshToken(row.token_hash, row.family_id, row.created_at, row.spent_at)
            if row
            else None
        )

    async def spend_token(self, token_hash: str, now: datetime) -> bool:
        result = await self._c.execute(
            update(_TOK)
            .where(_TOK.c.token_hash == token_hash, _TOK.c.spent_at.is_(None))
            .values(spent_at=now)
        )
        return bool(result.rowcount == 1)
