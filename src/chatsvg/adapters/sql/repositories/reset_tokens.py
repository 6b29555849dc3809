"""Password reset tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from chatsvg.adapters.sql import tables as t
from chatsvg.adapters.sql.repositories.base import SqlRepository
from chatsvg.domain.accounts.auth import PasswordResetToken

_R = t.password_reset_tokens


class SqlResetTokens(SqlRepository):
    async def add(self, token: PasswordResetToken) -> None:
        await self._c.execute(insert(_R).values(**token.__dict__))

    async def get(self, token_hash: str) -> PasswordResetToken | None:
        row = (await self._c.execute(select(_R).where(_R.c.token_hash == token_hash))).first()
        if row is None:
            return None
        return PasswordResetToken(
            row.token_hash, row.user_id, row.created_at, row.expires_at, row.used_at
        )

    async def use(self, token_hash: str, now: datetime) -> bool:
        # PasswordResetToken.usable in SQL, as a compare-and-set.
        result = await self._c.execute(
            update(_R)
            .where(_R.c.token_hash == token_hash, _R.c.used_at.is_(None), _R.c.expires_at > now)
            .values(used_at=now)
        )
        return bool(result.rowcount == 1)

    async def retire_all(self, user_id: str, now: datetime) -> None:
        await self._c.execute(
            update(_R).where(_R.c.user_id == user_id, _R.c.used_at.is_(None)).values(used_at=now)
        )
