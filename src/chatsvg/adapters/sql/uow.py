"""The SQL unit of work: one connection, one transaction, and a repository per aggregate on it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Generic, NoReturn, Self, TypeVar, overload

from sqlalchemy import Select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from chatsvg.adapters.sql.driver_statement import DriverStatement, driver_call
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


class _LazyTransaction:
    """The unit of work's connection on Postgres: plain reads run as they come, outside any
    transaction, until the first statement that writes or locks (anything but a SELECT without
    FOR UPDATE/SHARE); that one begins the transaction, and everything after it runs inside.

    Under READ COMMITTED, Postgres's level here, every statement reads its own snapshot
    whether a transaction is open or not, and a plain SELECT takes no lock that outlives it, so
    the reads before the first write see exactly what they would have seen inside; a unit of
    work that only reads (authentication, the current user, a list) saves the BEGIN and the
    ROLLBACK, two of its round trips. Writes are as atomic as before: all of them run in the
    one transaction, committed by `commit()` or rolled back on leaving the block."""

    __slots__ = ("_conn", "_raw")

    def __init__(self, conn: AsyncConnection, raw: Any) -> None:
        self._conn = conn
        self._raw = raw  # the driver adapter: `autocommit` True = no BEGIN before a statement

    def _before(self, statement: Any) -> None:
        if self._raw.autocommit and not (
            isinstance(statement, Select) and statement._for_update_arg is None
        ):
            self._raw.autocommit = False  # the next statement sends BEGIN first

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self._before(statement)
        return await self._conn.execute(statement, *args, **kwargs)

    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self._before(statement)
        return await self._conn.scalar(statement, *args, **kwargs)

    def begin_nested(self) -> Any:
        self._raw.autocommit = False
        return self._conn.begin_nested()

    def __getattr__(self, name: str) -> Any:  # anything else: in the transaction, to be safe
        self._raw.autocommit = False
        return getattr(self._conn, name)


R = TypeVar("R")


class _Repository(Generic[R]):
    """A repository of the unit of work, built on first use: a request names one or two of the
    nineteen, and building them all cost 10 µs per unit of work."""

    def __init__(self, build: Callable[[SqlUnitOfWork], R]) -> None:
        self._build = build
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, uow: None, owner: type) -> Self: ...
    @overload
    def __get__(self, uow: SqlUnitOfWork, owner: type | None = None) -> R: ...
    def __get__(self, uow: SqlUnitOfWork | None, owner: type | None = None) -> R | Self:
        if uow is None:
            return self
        repository = self._build(uow)
        uow.__dict__[self._name] = repository  # from now on found before this descriptor
        return repository


class SqlUnitOfWork:
    """A transaction on a pooled connection, rolled back on leaving the block unless committed.
    `lock`, when given (SQLite), lets one unit of work run at a time.

    On Postgres the unit of work checks a connection out of the pool and wraps it in SQLAlchemy's
    `Connection` only when a repository first runs a statement through SQLAlchemy; the transaction
    begins with the first statement that writes or locks (`_LazyTransaction`). A unit of work
    whose statements are all `DriverStatement`s (the current user's read, an accepted prompt's
    one INSERT) runs them on asyncpg's connection and never builds the `Connection`: its
    construction, BEGIN and ROLLBACK bookkeeping and close were a sixth of an authenticated
    read's CPU (docs/performance.md, tenth round). The worker's claim and finish run their
    locking reads and writes the same way (`fetch`, `execute_many`), inside a transaction begun
    on the driver's connection: the adapter's own, so that a statement through SQLAlchemy joins
    it, and committed by `commit` or rolled back when the connection goes back to the pool
    (eleventh round)."""

    users = _Repository(SqlUsers)
    sessions = _Repository(SqlSessions)
    reset_tokens = _Repository(SqlResetTokens)
    identities = _Repository(SqlIdentities)
    mail_outbox = _Repository(SqlMailOutbox)
    admin_links = _Repository(SqlAdminLinks)
    admin_sessions = _Repository(SqlAdminSessions)
    admin_figures = _Repository(SqlAdminFigures)
    jobs = _Repository(SqlJobs)
    generations = _Repository(SqlGenerations)
    ledger = _Repository(SqlLedger)
    notifications = _Repository(SqlNotifications)
    authz_clients = _Repository(SqlOAuthClients)
    authz_grants = _Repository(SqlGrants)
    plan_usage = _Repository(SqlPlanUsage)
    subscriptions = _Repository(SqlSubscriptions)
    billing_events = _Repository(SqlBillingEvents)
    api_keys = _Repository(SqlApiKeys)
    key_usage = _Repository(SqlKeyUsage)

    def __init__(self, engine: AsyncEngine, lock: asyncio.Lock | None = None) -> None:
        self._engine = engine
        self._lock = lock
        self.dialect = engine.dialect.name
        # Driver statements run on the pool's connection itself only with asyncpg.
        self._asyncpg = engine.dialect.driver == "asyncpg"
        self._conn: AsyncConnection | None = None
        self._lazy: _LazyTransaction | None = None
        self._raw: Any = None
        # Postgres: the connection checked out of the pool; `_conn` wraps it once needed.
        self._pooled: PoolProxiedConnection | None = None
        self._lost: BaseException | None = None  # why a driver statement lost the connection
        self._open = False

    @property
    def connection(self) -> AsyncConnection:
        conn = self._sqlalchemy()
        return self._lazy or conn  # type: ignore[return-value]  # the same methods

    def _sqlalchemy(self) -> AsyncConnection:
        """SQLAlchemy's connection over the checked-out one, built on first need (no I/O)."""
        assert self._open, "use the unit of work as `async with`"
        if self._conn is None:
            if self._lost is not None:
                self._raise_lost()
            # First statement through SQLAlchemy: wrap the checked-out connection (no I/O).
            sync = Connection(self._engine.sync_engine, connection=self._pooled)
            self._conn = AsyncConnection(self._engine, sync)
            if self._raw is not None:
                self._lazy = _LazyTransaction(self._conn, self._raw)
        return self._conn

    async def __aenter__(self) -> Self:
        if self._lock is not None:
            await self._lock.acquire()
        try:
            if self.dialect == "postgresql":
                self._pooled = await greenlet_spawn(self._check_out)
                raw = self._pooled.dbapi_connection
                if raw is not None and hasattr(raw, "autocommit"):
                    raw.autocommit = True
                    self._raw = raw
            else:
                self._conn = await self._engine.connect()
                await self._conn.begin()
        except BaseException:
            self._restore()
            if self._lock is not None:
                self._lock.release()
            raise
        self._open = True
        return self

    def _check_out(self) -> PoolProxiedConnection:
        """A connection from the pool (in SQLAlchemy's greenlet: the pool may connect or ping),
        a driver error raised as SQLAlchemy's, as `engine.connect()` raises it."""
        engine = self._engine.sync_engine
        try:
            return engine.raw_connection()
        except engine.dialect.loaded_dbapi.Error as exc:
            raise sa_exc.DBAPIError.instance(
                None,
                None,
                exc,
                engine.dialect.loaded_dbapi.Error,
                connection_invalidated=engine.dialect.is_disconnect(exc, None, None),
                dialect=engine.dialect,
            ) from exc

    def _restore(self) -> None:
        """The connection goes back to the pool as it came: beginning transactions itself."""
        if self._raw is not None:
            self._raw.autocommit = False
            self._raw = None
        self._lazy = None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        cancelled = exc_type is not None and issubclass(exc_type, asyncio.CancelledError)
        try:
            if self._conn is not None:
                if cancelled:
                    # Cancelled mid-statement (a client went away, a shutdown): the driver may still
                    # be busy on this connection, so it must never go back to the pool.
                    await asyncio.shield(self._conn.invalidate())
                else:
                    if self._conn.in_transaction():
                        await self._conn.rollback()
                    self._restore()
                    await self._conn.close()
            elif self._pooled is not None and self._pooled.dbapi_connection is not None:
                if cancelled:
                    self._pooled.invalidate()  # asyncpg's terminate: no I/O, nothing to await
                else:
                    self._restore()
                    await greenlet_spawn(self._pooled.close)
        finally:
            self._restore()
            self._conn = None
            self._pooled = None
            self._lost = None
            self._open = False
            if self._lock is not None:
                self._lock.release()

    def begins_nothing_yet(self) -> bool:
        """True while this unit of work has written nothing (Postgres): a statement run now with
        `run_alone` commits by itself."""
        return self._raw is not None and bool(self._raw.autocommit)

    async def run_alone(self, statement: DriverStatement, params: Mapping[str, Any]) -> int:
        """Run one statement outside any transaction, on the driver's connection: it commits (or
        fails) on its own. Only for a unit of work's one and only write, when
        `begins_nothing_yet()`. Returns its row count."""
        assert self._open and self.begins_nothing_yet()
        if self._on_driver():
            return int(await self._on_pool(statement.execute_on, params))
        return await statement.execute(self._sqlalchemy(), params)

    async def first(self, statement: DriverStatement, params: Mapping[str, Any]) -> Any | None:
        """The first row of a read (or None). Before this unit of work has written anything
        (Postgres), it runs on the driver's connection (adapters/sql/driver_statement.py), which
        reads exactly what it would inside (READ COMMITTED: a statement's own snapshot); once a
        transaction is open, or on another database, through SQLAlchemy in it."""
        assert self._open, "use the unit of work as `async with`"
        if self.begins_nothing_yet():
            if self._on_driver():
                return await self._on_pool(statement.first_on, params)
            return await statement.first(self._sqlalchemy(), params)
        return (await self.connection.execute(statement.statement, dict(params))).first()

    async def fetch(self, statement: DriverStatement, params: Mapping[str, Any]) -> list[Any]:
        """Every row of a statement run inside this unit of work's transaction (a locking read,
        a write with RETURNING). Until SQLAlchemy's `Connection` is needed (Postgres, asyncpg),
        it runs on the driver's connection, beginning the transaction first if none is open;
        else through SQLAlchemy in it. Rows have the selected columns as attributes either way."""
        if self._on_driver():
            await self._begin_on_driver()
            return list(await self._on_pool(statement.fetch_on, params))
        return list((await self.connection.execute(statement.statement, dict(params))).all())

    async def execute_many(self, statement: DriverStatement, rows: list[Mapping[str, Any]]) -> None:
        """A write once per row of parameters, inside this unit of work's transaction, as
        `fetch` (asyncpg sends the rows in one round trip)."""
        if not rows:
            return
        if self._on_driver():
            await self._begin_on_driver()
            await self._on_pool(statement.execute_many_on, rows)
            return
        await self.connection.execute(statement.statement, [dict(row) for row in rows])

    def _on_driver(self) -> bool:
        assert self._open, "use the unit of work as `async with`"
        return self._conn is None and self._asyncpg and self._lost is None

    async def _begin_on_driver(self) -> None:
        """BEGIN on the driver's connection, as SQLAlchemy's asyncpg adapter begins one (it is
        the adapter's transaction from then on: a statement run later through SQLAlchemy joins
        it, SQLAlchemy's commit or rollback ends it, and the pool's reset on check-in rolls it
        back if nobody committed)."""
        raw = self._raw
        assert raw is not None and self._pooled is not None
        if raw._transaction is not None:
            return
        raw.autocommit = False  # a statement through SQLAlchemy would begin one by itself now
        driver: Any = self._pooled.driver_connection
        transaction = driver.transaction()
        await self._on_pool(
            lambda pooled, _, __: driver_call(transaction.start, pooled, "BEGIN"), None
        )
        raw._transaction = transaction

    async def _end_on_driver(self) -> None:
        """COMMIT the transaction `_begin_on_driver` opened (no SQLAlchemy `Connection` ran)."""
        raw = self._raw
        if raw is None:
            if self._lost is not None:  # its connection is gone, and the transaction with it
                self._raise_lost()
            return
        transaction = raw._transaction
        if transaction is None:
            return  # only statements outside a transaction ran: each committed on its own
        try:
            await self._on_pool(
                lambda pooled, _, __: driver_call(transaction.commit, pooled, "COMMIT"), None
            )
        finally:
            raw._transaction = None
        raw.autocommit = True  # as after SQLAlchemy's commit: reads run outside again

    def _raise_lost(self) -> NoReturn:
        """What a unit of work whose connection was lost raises for anything it runs next."""
        lost = self._lost
        assert lost is not None
        raise sa_exc.OperationalError(None, None, lost, connection_invalidated=True) from lost

    async def _on_pool(self, send: Callable[..., Awaitable[Any]], params: Any) -> Any:
        """A DriverStatement's `first_on`, `execute_on`, `fetch_on` or `execute_many_on` (or the
        driver's BEGIN or COMMIT), on the connection checked out of the pool. One that
        lost its connection has invalidated it (the pool's record is checked in, empty): this
        unit of work is over, as one whose transaction lost its connection is; whatever it runs
        next raises the same OperationalError (a 503, a retried job), and the next unit of work
        gets a fresh connection."""
        assert self._pooled is not None
        try:
            return await send(self._pooled, self._engine.dialect, params)
        except sa_exc.DBAPIError as exc:
            if exc.connection_invalidated:
                self._raw = None
                self._lost = exc.orig or exc
            raise

    async def commit(self) -> None:
        assert self._open, "use the unit of work as `async with`"
        if self._conn is None:
            await self._end_on_driver()
            return
        await self._conn.commit()
        # A statement after this commit (in the same block) begins a new transaction by itself,
        # again only once it writes or locks.
        if self._raw is not None:
            self._raw.autocommit = True
