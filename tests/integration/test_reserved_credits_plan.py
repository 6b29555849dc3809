"""A user's reserved credits (the cost of their QUEUED jobs not charged yet) are read on every
accepted prompt. Postgres must read them from the partial index `ix_generation_jobs_reserved`,
the user's own reserved jobs, and not from every QUEUED job of every user: that made an accept's
cost grow with the whole queue's depth. It can only where it proves the statement's WHERE implies
the index's predicate, including in the generic plan a prepared statement (asyncpg's) ends up
with: a parameter in place of the constants would silently lose the index."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from chatsvg.adapters.sql.engine import SqlDatabase
from chatsvg.adapters.sql.repositories import credits, jobs

pytestmark = pytest.mark.real


def index_names(plan: Any) -> set[str]:
    """Every index a JSON plan (EXPLAIN (FORMAT JSON)) reads, at any depth."""
    found: set[str] = set()
    if isinstance(plan, dict):
        if "Index Name" in plan:
            found.add(plan["Index Name"])
        for value in plan.values():
            found |= index_names(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= index_names(value)
    return found


async def generic_plan(db: SqlDatabase, statement: Any) -> set[str]:
    """The indexes of the statement's generic plan, compiled as asyncpg is sent it (its only
    string parameter is the user's id; the others are numbers); full table scans are priced out
    so that the plan shows which indexes the planner may use at all."""
    compiled = statement.compile(dialect=postgresql.asyncpg.dialect())
    arguments = ", ".join(
        "'someone'" if n == "user_id" else "0" for n in compiled.positiontup or []
    )
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        async with driver.transaction():
            await driver.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await driver.execute("SET LOCAL enable_seqscan = off")
            await driver.execute("SET LOCAL enable_bitmapscan = off")
            await driver.execute(f"PREPARE reserved_probe AS {compiled}")
            try:
                plan = await driver.fetchval(
                    f"EXPLAIN (FORMAT JSON) EXECUTE reserved_probe({arguments})"
                )
            finally:
                await driver.execute("DEALLOCATE reserved_probe")
    # SQLAlchemy's asyncpg dialect decodes json itself; a bare connection answers the text.
    return index_names(json.loads(plan) if isinstance(plan, str) else plan)


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(select(jobs._RESERVED), id="the accept's affordability check"),
        pytest.param(credits._BALANCE_AND_RESERVED, id="the balance read"),
    ],
)
async def test_reserved_credits_are_read_from_the_partial_index(
    postgres_url: str, statement: Any
) -> None:
    db = SqlDatabase(postgres_url)
    try:
        used = await generic_plan(db, statement)
    finally:
        await db.dispose()
    assert "ix_generation_jobs_reserved" in used, used
    assert "ix_generation_jobs_status_updated" not in used, used
