"""The database pool against the real Postgres: dropped connections are replaced before use when
they sat idle, and connections in steady use cost no extra round trip."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from chatsvg.adapters.sql.engine import SqlDatabase

pytestmark = pytest.mark.real


async def _backend_pids(db: SqlDatabase) -> set[int]:
    """The server processes behind the pool's connections (all of them checked in)."""
    pids: set[int] = set()
    conns = [await db.engine.connect() for _ in range(db.engine.pool.size())]  # type: ignore[attr-defined]
    try:
        for conn in conns:
            pids.add(int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()))
    finally:
        for conn in conns:
            await conn.close()
    return pids


async def _terminate(url: str, pids: set[int]) -> None:
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            for pid in pids:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()


def _count_pings(db: SqlDatabase) -> list[int]:
    """Wraps the dialect's own ping (the real one still runs) to count how often it is used."""
    dialect = db.engine.sync_engine.dialect
    real_ping = dialect.do_ping
    calls = [0]

    def counted(dbapi_connection: object) -> bool:
        calls[0] += 1
        return bool(real_ping(dbapi_connection))

    dialect.do_ping = counted  # type: ignore[method-assign]
    return calls


async def test_connections_dropped_while_idle_are_replaced_before_use(postgres_url: str) -> None:
    db = SqlDatabase(postgres_url, pool_size=2, ping_after_idle=0.2)
    pings = _count_pings(db)
    try:
        await db.warm()
        pids = await _backend_pids(db)
        await _terminate(postgres_url, pids)
        await asyncio.sleep(0.3)  # idle for longer than the threshold
        for _ in range(4):  # every pooled connection was dropped; none reaches a unit of work
            async with db.uow() as uow:
                assert (await uow.connection.execute(select(1))).scalar_one() == 1
        assert pings[0] >= 2
        assert not (await _backend_pids(db)) & pids  # served by new connections
    finally:
        await db.dispose()


async def test_connections_in_steady_use_are_not_pinged(postgres_url: str) -> None:
    db = SqlDatabase(postgres_url, pool_size=2, ping_after_idle=30.0)
    pings = _count_pings(db)
    try:
        for _ in range(20):
            async with db.uow() as uow:
                await uow.connection.execute(select(1))
        assert pings[0] == 0
    finally:
        await db.dispose()


async def test_a_connection_dropped_while_in_steady_use_fails_once_then_the_pool_recovers(
    postgres_url: str,
) -> None:
    db = SqlDatabase(postgres_url, pool_size=1, ping_after_idle=30.0)
    try:
        pids = await _backend_pids(db)
        await _terminate(postgres_url, pids)
        with pytest.raises(DBAPIError) as failure:
            async with db.uow() as uow:
                await uow.connection.execute(select(1))
        assert failure.value.connection_invalidated
        async with db.uow() as uow:  # the broken connection was discarded, not pooled again
            assert (await uow.connection.execute(select(1))).scalar_one() == 1
    finally:
        await db.dispose()
