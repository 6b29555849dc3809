"""Apply Alembic migrations from code: at start-up in local mode, by `chatsvg migrate` elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class MigrationStep:
    """One migration applied (upgrade) or reverted (downgrade)."""

    revision: str  # the revision the step upgraded to, or reverted
    description: str
    upgrade: bool


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def head_revision() -> str | None:
    """The newest revision this code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def describe(revision: str) -> str:
    """A revision's one-line description (its docstring's first line)."""
    script = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    doc = (script.doc if script is not None else "") or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


async def current_revisions(engine: AsyncEngine) -> tuple[str, ...]:
    """The revisions the database is at (empty before the first migration)."""

    def read(connection: Any) -> tuple[str, ...]:
        return tuple(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def _run(engine: AsyncEngine, action: Any, revision: str) -> list[MigrationStep]:
    config = alembic_config()
    steps: list[MigrationStep] = []

    def record(*, step: Any, **_: Any) -> None:
        steps.append(
            MigrationStep(
                revision=step.up_revision_id,
                description=describe(step.up_revision_id),
                upgrade=bool(step.is_upgrade),
            )
        )

    def run(connection: Any) -> None:
        config.attributes["connection"] = connection
        config.attributes["on_version_apply"] = record
        action(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)
    return steps


async def upgrade(engine: AsyncEngine, revision: str = "head") -> list[MigrationStep]:
    """Upgrade to `revision`; returns the migrations applied, oldest first."""
    return await _run(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> list[MigrationStep]:
    """Downgrade to `revision` (an id, `-1`, or `base`); returns the migrations reverted, newest
    first. Reverting a migration drops what it created, data included."""
    return await _run(engine, command.downgrade, revision)


async def autogenerate(engine: AsyncEngine, message: str) -> None:
    """Developer helper: write a new dated revision from the difference between tables.py and the database."""
    config = alembic_config()

    def run(connection: Any) -> None:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)

    async with engine.begin() as conn:
        await conn.run_sync(run)
