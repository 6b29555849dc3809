"""The generation-quality migration goes down and up again with data in the tables."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from chatsvg.adapters.sql.engine import SqlDatabase
from chatsvg.adapters.sql.migrate import downgrade, upgrade

BEFORE = "f1d5e7a9b204"  # the revision before 2026_12_07_g1_generation_quality


async def test_down_keeps_the_first_drawing_of_each_job_and_up_restores_the_columns(
    tmp_path: Path,
) -> None:
    db = SqlDatabase(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await upgrade(db.engine)
        async with db.engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO users (id, email, name, plan, email_verified, credits, created_at)"
                    " VALUES ('u', 'a@b.c', '', 'FREE', 0, 0, '2026-12-07 00:00:00')"
                )
            )
            for variant in (0, 1):
                await conn.execute(
                    sa.text(
                        "INSERT INTO svg_generations (id, user_id, job_id, prompt, style, model,"
                        " privacy, storage_key, size_bytes, created_at, variant)"
                        " VALUES (:id, 'u', 'j', 'p', 'flat', 'offline', 1, :key, 1,"
                        " '2026-12-07 00:00:00', :variant)"
                    ),
                    {"id": f"g{variant}", "key": f"k{variant}", "variant": variant},
                )
        await downgrade(db.engine, BEFORE)
        async with db.engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT id FROM svg_generations"))).all()
            columns = {
                c["name"]
                for c in await conn.run_sync(
                    lambda sync: sa.inspect(sync).get_columns("generation_jobs")
                )
            }
        assert [r.id for r in rows] == ["g0"]
        assert not {"variants", "parent_id"} & columns
        await upgrade(db.engine)
        async with db.engine.connect() as conn:
            row = (
                await conn.execute(sa.text("SELECT variant, parent_id FROM svg_generations"))
            ).one()
        assert (row.variant, row.parent_id) == (0, None)
    finally:
        await db.dispose()
