"""The database: engine and pool set-up (SQLite pragmas, idle-connection pings), warm-up, and the
factory of units of work."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from chatsvg.adapters.sql.uow import SqlUnitOfWork


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    pool_timeout: float = 30.0,
    ping_after_idle: float = 10.0,
    echo: bool = False,
) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, open transactions, so SAVEPOINTs work (SQLAlchemy's recipe).
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No overflow: Postgres connections are a shared, bounded resource; waiting for one is cheaper
    # than opening more.
    engine = create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout
    )
    _ping_idle_connections(engine, ping_after_idle)
    return engine


def _ping_idle_connections(engine: AsyncEngine, idle_seconds: float) -> None:
    """Replace connections Postgres dropped (a restart, a failover, an idle timeout) before they
    are used, like `pool_pre_ping`, but only for connections that sat in the pool for more than
    `idle_seconds`. pool_pre_ping pays a round trip on every checkout: one of the five a prompt
    submission makes, two of a job's twelve. A connection in steady use is known to be alive;
    one that breaks between two uses (the server goes away mid-load) fails its statement, and
    SQLAlchemy then discards every connection of the pool opened before the failure, so only
    work already in flight sees the error. This is SQLAlchemy's documented pessimistic recipe
    (a `checkout` listener raising DisconnectionError: the pool reconnects and checks out again).
    """
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "checkin")
    def _stamp(_dbapi_conn: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return  # just opened, or in use a moment ago
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError("connection dropped while idle in the pool") from exc


class SqlDatabase:
    """The engine and the unit-of-work factory. SQLite serialises writers; so do we, to avoid lock errors."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        pool_timeout: float = 30.0,
        ping_after_idle: float = 10.0,
    ) -> None:
        self.url = url
        self.engine = make_engine(
            url, pool_size=pool_size, pool_timeout=pool_timeout, ping_after_idle=ping_after_idle
        )
        self._lock: asyncio.Lock | None = asyncio.Lock() if url.startswith("sqlite") else None

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self._lock)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(select(1))

    async def warm(self, connections: int | None = None) -> None:
        """Open the pool's connections now (all of them by default), not during the first burst
        of work, where each connect would delay a request or a job by a handshake."""
        if self._lock is not None:
            await self.ping()
            return
        wanted = connections if connections is not None else self.engine.pool.size()  # type: ignore[attr-defined]
        opened = [await self.engine.connect() for _ in range(max(1, wanted))]
        try:
            for conn in opened:
                await conn.execute(select(1))
        finally:
            for conn in opened:
                await conn.close()

    async def dispose(self) -> None:
        await self.engine.dispose()
