"""A hot statement run on asyncpg's own connection, without SQLAlchemy's execution around it.

SQLAlchemy's execution (context, cursor adapter, result wrapper, the greenlet hop) costs about
0.2 ms of CPU per statement on top of asyncpg's 0.07 (docs/performance.md, eighth round). For the
one statement an accepted prompt must make, and the statements of the worker's claim and finish
(inside their unit of work's transaction, SqlUnitOfWork.fetch), `DriverStatement` keeps what
SQLAlchemy gives (the statement written with its expression language and compiled by its asyncpg
dialect, the parameter order, each value converted by its column type's own bind processor) and
sends it with asyncpg, which prepares and caches it per connection. A read (`first`) comes back as
a row with the selected columns as attributes, each value through its column type's own result
processor, as SQLAlchemy's row would have it.

Errors come out as SQLAlchemy's, so that callers and the HTTP layer read them as before: an
integrity violation as `IntegrityError`, a lost or unusable connection as `OperationalError`
with the connection invalidated (never handed out again by the pool), any other database error as
`DBAPIError`.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any, cast

import asyncpg
from sqlalchemy import Float
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement

# SQLSTATE classes of a connection that is gone or unusable: 08 connection exception, 57 operator
# intervention (admin shutdown, crash shutdown, cannot connect now), 53 insufficient resources.
_LOST_CLASSES = ("08", "57", "53")
# What asyncpg raises on a connection it can no longer use. InternalClientError: its protocol is
# in a state no statement can follow, e.g. after the server's FATAL "terminating connection"
# arrived while it was idle, before the socket closed ("cannot switch to state ...; another
# operation (2) is in progress").
_LOST_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)


class _Compiled:
    __slots__ = ("compiled", "names", "processors", "row", "row_processors", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        self.compiled = statement.compile(dialect=dialect)
        self.sql = self.compiled.string
        self.names: list[str] = list(self.compiled.positiontup or ())  # type: ignore[attr-defined]
        binds = self.compiled.binds  # type: ignore[attr-defined]
        self.processors: list[Callable[[Any], Any] | None] = [
            binds[name].type.bind_processor(dialect) for name in self.names
        ]
        # What a SELECT answers: one attribute per column, in the statement's order.
        columns = list(getattr(statement, "selected_columns", ()))
        self.row: Any = namedtuple("Row", [c.key for c in columns]) if columns else None
        self.row_processors: list[Callable[[Any], Any] | None] = [
            _result_processor(c.type, dialect) for c in columns
        ]

    def to_row(self, record: Any) -> Any:
        return self.row._make(
            value if process is None else process(value)
            for value, process in zip(record, self.row_processors, strict=True)
        )

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(dict(params))
        assert values is not None
        return [
            value if process is None else process(value)
            for value, process in zip((values[n] for n in self.names), self.processors, strict=True)
        ]


def _result_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's result processor. asyncpg's numeric types choose theirs by the type OID
    of the answer's column, which a statement compiled ahead does not know: a Float column
    answers float8 (701), any other numeric one numeric (1700)."""
    try:
        return type_._cached_result_processor(dialect, None)  # type: ignore[no-any-return]
    except (TypeError, sa_exc.InvalidRequestError):
        oid = 701 if isinstance(type_, Float) else 1700
        return type_._cached_result_processor(dialect, oid)  # type: ignore[no-any-return]


class DriverStatement:
    """`statement`, compiled once per dialect, run by `execute` on a checked-out connection."""

    def __init__(self, statement: ClauseElement) -> None:
        self._statement: Any = statement
        self._compiled: dict[str, _Compiled] = {}

    @property
    def statement(self) -> Any:
        """The statement as SQLAlchemy runs it (inside a transaction, or on another driver)."""
        return self._statement

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self._statement, dialect)
        return compiled

    async def execute(self, conn: AsyncConnection, params: Mapping[str, Any]) -> int:
        """Run it outside any transaction (it commits on its own) and return its row count.
        The connection must be checked out and not inside a transaction; on a driver other than
        asyncpg the statement runs through SQLAlchemy as usual."""
        if conn.dialect.driver != "asyncpg":
            return int((await conn.execute(self._statement, dict(params))).rowcount)
        pooled = await conn.get_raw_connection()
        return await self.execute_on(pooled, conn.dialect, params, invalidate=conn.invalidate)

    async def first(self, conn: AsyncConnection, params: Mapping[str, Any]) -> Any | None:
        """The first row the statement answers (a SELECT), or None, outside any transaction. The
        row has the selected columns as attributes, converted as SQLAlchemy's row would be; on
        a driver other than asyncpg it is SQLAlchemy's own row."""
        if conn.dialect.driver != "asyncpg":
            return (await conn.execute(self._statement, dict(params))).first()
        pooled = await conn.get_raw_connection()
        return await self.first_on(pooled, conn.dialect, params, invalidate=conn.invalidate)

    async def execute_on(
        self,
        pooled: PoolProxiedConnection,
        dialect: Dialect,
        params: Mapping[str, Any],
        *,
        invalidate: Callable[[], Awaitable[None]] | None = None,
    ) -> int:
        """`execute` on a connection checked out of the pool with no SQLAlchemy `Connection`
        around it (asyncpg only). A lost connection is invalidated by `invalidate` when given
        (the `Connection` that holds it), else on the pool's record itself, which checks it in."""
        _, status = await self._send(pooled, dialect, params, invalidate, "execute")
        # "INSERT 0 1", "UPDATE 3", ...: the count is the last word.
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def first_on(
        self,
        pooled: PoolProxiedConnection,
        dialect: Dialect,
        params: Mapping[str, Any],
        *,
        invalidate: Callable[[], Awaitable[None]] | None = None,
    ) -> Any | None:
        """`first` on a connection checked out of the pool, as `execute_on`."""
        compiled, record = await self._send(pooled, dialect, params, invalidate, "fetchrow")
        return None if record is None else compiled.to_row(record)

    async def fetch_on(
        self,
        pooled: PoolProxiedConnection,
        dialect: Dialect,
        params: Mapping[str, Any],
        *,
        invalidate: Callable[[], Awaitable[None]] | None = None,
    ) -> list[Any]:
        """Every row the statement answers (a SELECT, or a write with RETURNING), as `first_on`."""
        compiled, records = await self._send(pooled, dialect, params, invalidate, "fetch")
        return [compiled.to_row(record) for record in records]

    async def execute_many_on(
        self,
        pooled: PoolProxiedConnection,
        dialect: Dialect,
        rows: list[Mapping[str, Any]],
        *,
        invalidate: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """The statement once per row of parameters, in one round trip (asyncpg's
        `executemany`), as `execute_on`."""
        await self._send(pooled, dialect, rows, invalidate, "executemany")

    async def _send(
        self,
        pooled: PoolProxiedConnection,
        dialect: Dialect,
        params: Mapping[str, Any] | list[Mapping[str, Any]],
        invalidate: Callable[[], Awaitable[None]] | None,
        method: str,
    ) -> tuple[_Compiled, Any]:
        """asyncpg's `method` (execute, fetchrow, fetch; executemany with a list of parameter
        rows) with the compiled statement and its arguments; its errors raised as
        SQLAlchemy's."""
        compiled = self._for(dialect)
        driver: Any = pooled.driver_connection
        arguments: Any
        if method == "executemany":  # one row of arguments per row of parameters
            arguments = [compiled.arguments(row) for row in cast(list[Mapping[str, Any]], params)]
            call = partial(driver.executemany, compiled.sql, arguments)
        else:
            arguments = compiled.arguments(cast(Mapping[str, Any], params))
            call = partial(getattr(driver, method), compiled.sql, *arguments)
        return compiled, await driver_call(call, pooled, compiled.sql, arguments, invalidate)


async def driver_call(
    call: Callable[[], Awaitable[Any]],
    pooled: PoolProxiedConnection,
    sql: str,
    arguments: Any = (),
    invalidate: Callable[[], Awaitable[None]] | None = None,
) -> Any:
    """`call()` on `pooled`'s driver connection, awaited; what it raises (asyncpg checks the
    connection when the call is made, before anything is awaited) comes out as SQLAlchemy's
    (`as_sqlalchemy_error`)."""
    try:
        return await call()
    except Exception as exc:
        error = await as_sqlalchemy_error(exc, pooled, sql, arguments, invalidate)
        if error is exc:
            raise
        raise error from exc


async def as_sqlalchemy_error(
    exc: Exception,
    pooled: PoolProxiedConnection,
    sql: str,
    arguments: Any,
    invalidate: Callable[[], Awaitable[None]] | None,
) -> Exception:
    """What asyncpg raised on `pooled`, as SQLAlchemy would raise it: an integrity violation as
    IntegrityError, a lost connection as OperationalError (the connection invalidated first),
    any other database error as DBAPIError; anything else as it is. (Mapped in an `except`, not
    a context manager: a generator-based one cost more CPU than the statement's own Python.)"""
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        error: Exception = sa_exc.IntegrityError(sql, arguments, exc)
    elif isinstance(exc, asyncpg.PostgresError) and (exc.sqlstate or "")[:2] not in _LOST_CLASSES:
        error = sa_exc.DBAPIError(sql, arguments, exc)
    elif isinstance(exc, _LOST_ERRORS):
        if invalidate is not None:
            await invalidate()
        else:
            pooled.invalidate(exc)  # asyncpg's terminate, no I/O; the record goes back to the pool
        error = sa_exc.OperationalError(sql, arguments, exc, connection_invalidated=True)
    else:
        return exc
    return error
