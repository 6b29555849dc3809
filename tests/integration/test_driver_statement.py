"""A statement run on asyncpg's own connection (adapters/sql/driver_statement.py), against the real
Postgres: the values converted as SQLAlchemy converts them, the row count, and errors as
SQLAlchemy's own, a lost connection invalidated so the pool never hands it out again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import create_async_engine

from chatsvg.adapters.sql.driver_statement import DriverStatement, as_sqlalchemy_error
from chatsvg.adapters.sql.tables import UtcDateTime

pytestmark = pytest.mark.real

metadata = MetaData()
things = Table(
    "driver_statement_things",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("note", String(20)),
    Column("later", UtcDateTime),
)
# INSERT ... SELECT ... WHERE: inserts only while fewer than `most` rows exist.
BOUNDED = DriverStatement(
    insert(things).from_select(
        ["id", "n", "at"],
        select(
            bindparam("id", type_=String(36)),
            bindparam("n", type_=Integer),
            bindparam("at", type_=UtcDateTime),
        ).where(
            select(text("count(*)")).select_from(things).scalar_subquery()
            < bindparam("most", type_=Integer)
        ),
    )
)
WHEN = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
ONE = DriverStatement(select(things).where(things.c.id == bindparam("id")))


async def terminate_backend_of(conn: Any, postgres_url: str) -> int:
    """End `conn`'s server process from another connection, as an admin or a crash would, and
    wait until it has gone (the signal is acted on a moment after it is sent). Returns its pid."""
    pid = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
    await terminate_backend(pid, postgres_url)
    return pid


async def terminate_backend(pid: int, postgres_url: str) -> None:
    """End the server process `pid` from another connection and wait until it has gone."""
    admin = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        for _ in range(200):
            if not (await other.execute(gone, {"pid": pid})).scalar_one():
                break
            await asyncio.sleep(0.01)
    await admin.dispose()


@pytest.fixture
async def engine(postgres_url: str):  # type: ignore[no-untyped-def]
    engine = create_async_engine(postgres_url, pool_size=1, max_overflow=0)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    yield engine
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
    await engine.dispose()


async def test_it_writes_what_sqlalchemy_writes_and_counts_rows(engine) -> None:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        assert await BOUNDED.execute(conn, {"id": "a", "n": 1, "at": WHEN, "most": 1}) == 1
        assert await BOUNDED.execute(conn, {"id": "b", "n": 2, "at": WHEN, "most": 1}) == 0
        # Committed on its own: another connection sees it, read back through SQLAlchemy.
    async with engine.connect() as conn:
        rows = (await conn.execute(select(things))).all()
    assert [(r.id, r.n, r.at) for r in rows] == [("a", 1, WHEN)]


async def test_a_duplicate_key_is_sqlalchemys_integrity_error(engine) -> None:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        await BOUNDED.execute(conn, {"id": "a", "n": 1, "at": WHEN, "most": 5})
        with pytest.raises(sa_exc.IntegrityError):
            await BOUNDED.execute(conn, {"id": "a", "n": 2, "at": WHEN, "most": 5})
        # The connection is still usable: a constraint is not a lost connection.
        assert await BOUNDED.execute(conn, {"id": "b", "n": 2, "at": WHEN, "most": 5}) == 1


async def test_another_database_error_is_a_dbapi_error_not_a_lost_connection(engine) -> None:  # type: ignore[no-untyped-def]
    broken = DriverStatement(text("SELECT 1 / (:n - :n)").bindparams(bindparam("n", type_=Integer)))
    async with engine.connect() as conn:
        with pytest.raises(sa_exc.DBAPIError) as raised:
            await broken.execute(conn, {"n": 3})
        assert not isinstance(raised.value, sa_exc.OperationalError)
        assert not raised.value.connection_invalidated


async def test_a_lost_connection_is_invalidated_and_the_pool_connects_afresh(  # type: ignore[no-untyped-def]
    engine, postgres_url: str
) -> None:
    async with engine.connect() as conn:
        pid = await terminate_backend_of(conn, postgres_url)
        with pytest.raises(sa_exc.OperationalError) as raised:
            await BOUNDED.execute(conn, {"id": "a", "n": 1, "at": WHEN, "most": 5})
        assert raised.value.connection_invalidated
    async with engine.connect() as conn:  # the pool's one connection, replaced
        assert (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
        assert await BOUNDED.execute(conn, {"id": "a", "n": 1, "at": WHEN, "most": 5}) == 1


async def test_a_read_answers_the_row_sqlalchemy_answers(engine) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        await conn.execute(
            insert(things),
            [
                {"id": "a", "n": 1, "at": WHEN, "note": "x", "later": WHEN},
                {"id": "b", "n": 2, "at": WHEN, "note": None, "later": None},
            ],
        )
    async with engine.connect() as conn:
        for key in ("a", "b"):
            ours = await ONE.first(conn, {"id": key})
            theirs = (await conn.execute(ONE.statement, {"id": key})).first()
            assert ours is not None and theirs is not None
            assert tuple(ours) == tuple(theirs)
            assert ours._fields == tuple(theirs._fields)
            assert ours.at.tzinfo is not None and ours.at == WHEN  # through UtcDateTime
        assert (await ONE.first(conn, {"id": "a"})).later == WHEN
        assert await ONE.first(conn, {"id": "missing"}) is None


async def test_a_read_on_a_lost_connection_is_sqlalchemys_operational_error(  # type: ignore[no-untyped-def]
    engine, postgres_url: str
) -> None:
    async with engine.connect() as conn:
        await terminate_backend_of(conn, postgres_url)
        with pytest.raises(sa_exc.OperationalError) as raised:
            await ONE.first(conn, {"id": "a"})
        assert raised.value.connection_invalidated
    async with engine.connect() as conn:
        assert await ONE.first(conn, {"id": "a"}) is None


async def test_another_driver_runs_it_through_sqlalchemy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        async with engine.connect() as conn:
            assert await BOUNDED.execute(conn, {"id": "a", "n": 1, "at": WHEN, "most": 1}) == 1
            assert await BOUNDED.execute(conn, {"id": "b", "n": 2, "at": WHEN, "most": 1}) == 0
            await conn.commit()
            assert [r.id for r in (await conn.execute(select(things))).all()] == ["a"]
            row = await ONE.first(conn, {"id": "a"})
            assert row is not None and (row.id, row.n, row.at) == ("a", 1, WHEN)
            assert await ONE.first(conn, {"id": "b"}) is None
    finally:
        await engine.dispose()


async def test_a_protocol_left_unusable_is_a_lost_connection(engine) -> None:  # type: ignore[no-untyped-def]
    """When the server's FATAL arrives while the connection is idle, asyncpg's next statement can
    fail with InternalClientError ("cannot switch to state ...; another operation (2) is in
    progress") before it sees the socket closed: that too is a lost connection, invalidated, not
    an unexpected error (a 500 at the HTTP edge)."""
    async with engine.connect() as conn:
        pooled = await conn.get_raw_connection()
        unusable = asyncpg.InternalClientError(
            "cannot switch to state 12; another operation (2) is in progress"
        )
        error = await as_sqlalchemy_error(unusable, pooled, "SELECT 1", [], conn.invalidate)
        assert isinstance(error, sa_exc.OperationalError) and error.connection_invalidated
        assert conn.invalidated
