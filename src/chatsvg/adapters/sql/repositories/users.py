"""Users (the account record; its balance column belongs to the credits repository)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from chatsvg.adapters.sql import tables as t
from chatsvg.adapters.sql.driver_statement import DriverStatement
from chatsvg.adapters.sql.repositories.base import SqlRepository
from chatsvg.domain.accounts.users import User
from chatsvg.domain.errors import EmailTaken

# Built once: a statement built per call costs more CPU (its cache key) than it takes to run.
_BY_ID = select(t.users).where(t.users.c.id == bindparam("user_id"))
# Every authenticated page reads its user: on asyncpg's own connection when nothing is written yet.
_BY_ID_DRIVER = DriverStatement(_BY_ID)


def _user(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        password_hash=row.password_hash,
        avatar=row.avatar,
        plan=row.plan,
        created_at=row.created_at,
        email_verified=row.email_verified,
        notifications_seen_at=row.notifications_seen_at,
    )


class SqlUsers(SqlRepository):
    async def add(self, user: User) -> None:
        # In a savepoint: a taken email leaves the caller's transaction usable.
        try:
            async with self._c.begin_nested():
                await self._c.execute(
                    insert(t.users).values(
                        id=user.id,
                        email=user.email,
                        name=user.name,
                        password_hash=user.password_hash,
                        avatar=user.avatar,
                        plan=user.plan,
                        email_verified=user.email_verified,
                        credits=0,
                        created_at=user.created_at,
                        notifications_seen_at=user.notifications_seen_at,
                    )
                )
        except IntegrityError:
            raise EmailTaken() from None

    async def get(self, user_id: str) -> User | None:
        row = await self._uow.first(_BY_ID_DRIVER, {"user_id": user_id})
        return _user(row) if row else None

    async def with_balance(self, user_id: str) -> tuple[User, int] | None:
        row = await self._uow.first(_BY_ID_DRIVER, {"user_id": user_id})
        return (_user(row), int(row.credits or 0)) if row else None

    async def by_email(self, email: str) -> User | None:
        row = (await self._c.execute(select(t.users).where(t.users.c.email == email))).first()
        return _user(row) if row else None

    async def update(self, user: User) -> None:
        await self._c.execute(
            update(t.users)
            .where(t.users.c.id == user.id)
            .values(
                name=user.name,
                password_hash=user.password_hash,
                avatar=user.avatar,
                plan=user.plan,
                email_verified=user.email_verified,
                notifications_seen_at=user.notifications_seen_at,
            )
        )

    async def delete(self, user_id: str) -> None:
        """Every row that references the user goes with it: the schema's foreign keys are
        ON DELETE CASCADE (sessions and their tokens, reset tokens, jobs, generations, ledger
        entries, notifications, linked identities)."""
        await self._c.execute(delete(t.users).where(t.users.c.id == user_id))
