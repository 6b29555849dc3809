"""The SQL unit of work: one connection, one transaction, and a repository per aggregate on it."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chatsvg.adapters.sql.repositories.admin import (
    SqlAdminFigures,
    SqlAdminLinks,
    SqlAdminSessions,
)
from chatsvg.adapters.sql.repositories.api_keys import SqlApiKeys, SqlKeyUsage
from chatsvg.adapters.sql.repositories.authorization import SqlGrants, SqlOAuthClients
from chatsvg.adapters.sql.repositories.billing import SqlBillingEvents, SqlSubscriptions
from chatsvg.adapters.sql.repositories.credits import SqlLedger
from chatsvg.adapters.sql.repositories.generations import SqlGenerations
from chatsvg.adapters.sql.repositories.identities import SqlIdentities
from chatsvg.adapters.sql.repositories.jobs import SqlJobs
from chatsvg.adapters.sql.repositories.mail_outbox import SqlMailOutbox
from chatsvg.adapters.sql.repositories.notifications import SqlNotifications
from chatsvg.adapters.sql.repositories.plan_usage import SqlPlanUsage
from chatsvg.adapters.sql.repositories.reset_tokens import SqlResetTokens
from chatsvg.adapters.sql.repositories.sessions import SqlSessions
from chatsvg.adapters.sql.repositories.users import SqlUsers


class SqlUnitOfWork:
    """A transaction on a pooled connection, rolled back on leaving the block unless committed.
    `lock`, when given (SQLite), lets one unit of work run at a time."""

    def __init__(self, engine: AsyncEngine, lock: asyncio.Lock | None = None) -> None:
        self._engine = engine
        self._lock = lock
        self.dialect = engine.dialect.name
        self._conn: AsyncConnection | None = None
        self.users = SqlUsers(self)
        self.sessions = SqlSessions(self)
        self.reset_tokens = SqlResetTokens(self)
        self.identities = SqlIdentities(self)
        self.mail_outbox = SqlMailOutbox(self)
        self.admin_links = SqlAdminLinks(self)
        self.admin_sessions = SqlAdminSessions(self)
        self.admin_figures = SqlAdminFigures(self)
        self.jobs = SqlJobs(self)
        self.generations = SqlGenerations(self)
        self.ledger = SqlLedger(self)
        self.notifications = SqlNotifications(self)
        self.authz_clients = SqlOAuthClients(self)
        self.authz_grants = SqlGrants(self)
        self.plan_usage = SqlPlanUsage(self)
        self.subscriptions = SqlSubscriptions(self)
        self.billing_events = SqlBillingEvents(self)
        self.api_keys = SqlApiKeys(self)
        self.key_usage = SqlKeyUsage(self)

    @property
    def connection(self) -> AsyncConnection:
        assert self._conn is not None, "use the unit of work as `async with`"
        return self._conn

    async def __aenter__(self) -> Self:
        if self._lock is not None:
            await self._lock.acquire()
        try:
            self._conn = await self._engine.connect()
            await self._conn.begin()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._conn is not None:
                if exc_type is not None and issubclass(exc_type, asyncio.CancelledError):
                    # Cancelled mid-statement (a client went away, a shutdown): the driver may still
                    # be busy on this connection, so it must never go back to the pool.
                    await asyncio.shield(self._conn.invalidate())
                else:
                    if self._conn.in_transaction():
                        await self._conn.rollback()
                    await self._conn.close()
        finally:
            self._conn = None
            if self._lock is not None:
                self._lock.release()

    async def commit(self) -> None:
        await self.connection.commit()
        # A read after this commit (in the same block) begins a new transaction by itself.
