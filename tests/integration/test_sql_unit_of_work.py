"""The SQL unit of work against the real Postgres, where it checks a connection out of the pool and
builds SQLAlchemy's `Connection` around it only when a statement goes through SQLAlchemy
(adapters/sql/uow.py): the connection always goes back to the pool as it came, a lost one is
never handed out again, a cancelled statement's connection is dropped, and what follows a lost
driver read runs on a fresh connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Float, bindparam, delete, func, select
from sqlalchemy import exc as sa_exc

from chatsvg.adapters.sql import tables as t
from chatsvg.adapters.sql.driver_statement import DriverStatement
from chatsvg.adapters.sql.engine import SqlDatabase
from chatsvg.domain.accounts.users import User
from chatsvg.domain.credits.ledger import LedgerEntry
from chatsvg.domain.errors import InsufficientCredits
from tests.integration.test_driver_statement import terminate_backend

pytestmark = pytest.mark.real

SLEEP = DriverStatement(select(func.pg_sleep(bindparam("seconds", type_=Float)).label("slept")))
PID = DriverStatement(select(func.pg_backend_pid().label("pid")))


def user(user_id: str) -> User:
    return User(
        id=user_id,
        email=f"{user_id}@example.com",
        name=user_id,
        password_hash="x",
        avatar=None,
        plan="free",
        created_at=datetime(2026, 12, 7, tzinfo=UTC),
    )


@pytest.fixture
async def db(postgres_url: str) -> AsyncIterator[SqlDatabase]:
    """One connection in the pool, so that what a unit of work leaves on it shows in the next."""
    database = SqlDatabase(postgres_url, pool_size=1, pool_timeout=2)
    try:
        yield database
    finally:
        async with database.engine.begin() as conn:
            await conn.execute(delete(t.credit_ledger).where(t.credit_ledger.c.id.like("uow-%")))
            await conn.execute(delete(t.users).where(t.users.c.id.like("uow-%")))
        await database.dispose()


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def checked_out(db: SqlDatabase) -> int:
    return int(db.engine.pool.checkedout())  # type: ignore[attr-defined]


async def backend_pid(db: SqlDatabase) -> int:
    async with db.uow() as u:
        row = await u.first(PID, {})
    assert row is not None
    return int(row.pid)


async def test_a_unit_of_work_of_driver_reads_returns_its_connection_as_it_came(
    db: SqlDatabase,
) -> None:
    async with db.uow() as u:
        await u.users.add(user("uow-ada"))
        await u.commit()
    async with db.uow() as u:
        found = await u.users.with_balance("uow-ada")
        assert found is not None and found[0].email == "uow-ada@example.com"
        assert checked_out(db) == 1
    assert checked_out(db) == 0
    # The same (only) connection, used with SQLAlchemy's own transactions, is not left in
    # autocommit: a rolled-back write is undone.
    async with db.engine.connect() as conn:
        await conn.execute(t.users.update().where(t.users.c.id == "uow-ada").values(name="x"))
        await conn.rollback()
    async with db.uow() as u:
        again = await u.users.get("uow-ada")
        assert again is not None and again.name == "uow-ada"


async def test_a_write_after_driver_reads_is_one_transaction_undone_without_commit(
    db: SqlDatabase,
) -> None:
    async with db.uow() as u:
        await u.users.add(user("uow-bob"))
        await u.commit()
    with pytest.raises(RuntimeError):
        async with db.uow() as u:
            bob = await u.users.get("uow-bob")  # on the driver, outside any transaction
            assert bob is not None
            bob.rename("Robert")
            await u.users.update(bob)  # begins the transaction
            assert await u.users.by_email("uow-bob@example.com") is not None
            raise RuntimeError("the use case fails before committing")
    async with db.uow() as u:
        after = await u.users.get("uow-bob")
        assert after is not None and after.name == "uow-bob"
    assert checked_out(db) == 0


async def test_a_lost_connection_under_a_driver_read_ends_the_unit_of_work_not_the_pool(
    db: SqlDatabase, postgres_url: str
) -> None:
    async with db.uow() as u:
        await u.users.add(user("uow-cy"))
        await u.commit()
    pid = await backend_pid(db)
    await terminate_backend(pid, postgres_url)  # while the connection sits in the pool
    async with db.uow() as u:
        with pytest.raises(sa_exc.OperationalError) as raised:
            await u.users.get("uow-cy")
        assert raised.value.connection_invalidated
        # What the unit of work tries next fails the same way (a 503, a retried job), as a
        # transaction that lost its connection does; it never runs on a half-known connection.
        with pytest.raises(sa_exc.OperationalError) as again:
            await u.users.by_email("uow-cy@example.com")
        assert again.value.connection_invalidated
        with pytest.raises(sa_exc.OperationalError):
            await u.users.get("uow-cy")
    assert checked_out(db) == 0
    # The next unit of work runs on a fresh connection.
    assert await backend_pid(db) != pid
    async with db.uow() as u:
        cy = await u.users.get("uow-cy")
        assert cy is not None
        cy.rename("Cyrus")
        await u.users.update(cy)
        await u.commit()
    async with db.uow() as u:
        after = await u.users.get("uow-cy")
        assert after is not None and after.name == "Cyrus"


async def test_a_cancelled_driver_statement_drops_its_connection(db: SqlDatabase) -> None:
    before = await backend_pid(db)
    started = asyncio.Event()

    async def sleeper() -> None:
        async with db.uow() as u:
            started.set()
            await u.first(SLEEP, {"seconds": 30})

    task = asyncio.create_task(sleeper())
    await started.wait()
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert checked_out(db) == 0
    # Not handed out busy: the next unit of work gets a new server process at once.
    after = await asyncio.wait_for(backend_pid(db), 5)
    assert after != before


async def test_a_unit_of_work_without_a_free_connection_fails_as_the_pool_does(
    db: SqlDatabase,
) -> None:
    async with db.uow():
        with pytest.raises(sa_exc.TimeoutError):
            async with db.uow():
                pass
    assert checked_out(db) == 0


@pytest.mark.parametrize("where", ["127.0.0.1:1/chatsvg", "127.0.0.1:5432/chatsvg_no_such_db"])
async def test_a_connection_that_cannot_be_made_fails_as_engine_connect_fails(
    postgres_url: str, where: str
) -> None:
    """Refused, or refused by the server: the same exception, of the same class, as SQLAlchemy's
    own `engine.connect()` raises (the HTTP layer maps those to 503)."""
    url = postgres_url.split("@", 1)[0] + "@" + where
    db = SqlDatabase(url, pool_timeout=2)
    try:
        with pytest.raises(Exception) as by_engine:
            async with db.engine.connect():
                pass
        with pytest.raises(Exception) as by_uow:
            async with db.uow():
                pass
        assert type(by_uow.value) is type(by_engine.value)
        assert isinstance(by_uow.value, ConnectionError | sa_exc.DBAPIError)
    finally:
        await db.dispose()


def grant(entry_id: str, user_id: str, delta: int) -> LedgerEntry:
    return LedgerEntry(entry_id, user_id, delta, "ADMIN_GRANT", None, datetime.now(UTC))


async def balance(db: SqlDatabase, user_id: str) -> int:
    async with db.uow() as u:
        return await u.ledger.balance(user_id)


async def test_driver_writes_in_a_transaction_are_undone_without_commit_and_kept_with_it(
    db: SqlDatabase,
) -> None:
    """A write on the driver's connection (the ledger's one statement, a locking read) begins
    the unit of work's transaction there: nothing of it stays unless committed, and the
    connection goes back to the pool outside any transaction."""
    async with db.uow() as u:
        await u.users.add(user("uow-dee"))
        await u.commit()
    with pytest.raises(RuntimeError):
        async with db.uow() as u:
            assert await u.ledger.hold_balances({"uow-dee"}) == {"uow-dee": 0}
            assert await u.ledger.append_many([grant("uow-g1", "uow-dee", 5)]) == {"uow-g1"}
            raise RuntimeError("the use case fails before committing")
    assert checked_out(db) == 0
    assert await balance(db, "uow-dee") == 0
    async with db.uow() as u:
        assert await u.ledger.append_many([grant("uow-g2", "uow-dee", 3)]) == {"uow-g2"}
        await u.commit()
        # After the commit, the next write begins a transaction of its own.
        await u.ledger.append_many([grant("uow-g3", "uow-dee", 4)])
    assert await balance(db, "uow-dee") == 3
    # A refused balance move leaves the entries unwritten too (the caller does not commit).
    async with db.uow() as u:
        with pytest.raises(InsufficientCredits):
            await u.ledger.append_many([grant("uow-g4", "uow-dee", -9)])
    assert await balance(db, "uow-dee") == 3
    async with db.uow() as u:
        assert [e.id for e in await u.ledger.entries("uow-dee", limit=10, before=None)] == [
            "uow-g2"
        ]


async def test_a_statement_through_sqlalchemy_joins_the_transaction_the_driver_began(
    db: SqlDatabase,
) -> None:
    async with db.uow() as u:
        await u.users.add(user("uow-eve"))
        await u.commit()
    for commit in (False, True):
        with pytest.raises(RuntimeError) if not commit else _nothing():
            async with db.uow() as u:
                await u.ledger.append_many([grant(f"uow-e{commit}", "uow-eve", 2)])  # driver
                eve = await u.users.get("uow-eve")  # through SQLAlchemy, in the same transaction
                assert eve is not None
                eve.rename(f"Eve {commit}")
                await u.users.update(eve)
                assert await u.ledger.balance("uow-eve") == 2
                if commit:
                    await u.commit()
                else:
                    raise RuntimeError("not committed")
        async with db.uow() as u:
            after = await u.users.get("uow-eve")
            assert after is not None
            assert (after.name, await u.ledger.balance("uow-eve")) == (
                ("Eve True", 2) if commit else ("uow-eve", 0)
            )
    assert checked_out(db) == 0


async def test_a_connection_lost_inside_a_driver_transaction_ends_the_unit_of_work(
    db: SqlDatabase, postgres_url: str
) -> None:
    async with db.uow() as u:
        await u.users.add(user("uow-fay"))
        await u.commit()
    async with db.uow() as u:
        await u.ledger.append_many([grant("uow-f1", "uow-fay", 2)])
        pid = int((await u.fetch(PID, {}))[0].pid)
        await terminate_backend(pid, postgres_url)
        with pytest.raises(sa_exc.OperationalError) as raised:
            await u.ledger.append_many([grant("uow-f2", "uow-fay", 2)])
        assert raised.value.connection_invalidated
        # Its transaction is gone: committing says so instead of pretending.
        with pytest.raises(sa_exc.OperationalError):
            await u.commit()
    assert checked_out(db) == 0
    assert await backend_pid(db) != pid
    assert await balance(db, "uow-fay") == 0


async def test_a_commit_that_loses_its_connection_raises_and_drops_it(
    db: SqlDatabase, postgres_url: str
) -> None:
    async with db.uow() as u:
        await u.users.add(user("uow-gus"))
        await u.commit()
    async with db.uow() as u:
        await u.ledger.append_many([grant("uow-h1", "uow-gus", 2)])
        pid = int((await u.fetch(PID, {}))[0].pid)
        await terminate_backend(pid, postgres_url)
        with pytest.raises(sa_exc.OperationalError) as raised:
            await u.commit()
        assert raised.value.connection_invalidated
    assert checked_out(db) == 0
    assert await backend_pid(db) != pid
    assert await balance(db, "uow-gus") == 0
