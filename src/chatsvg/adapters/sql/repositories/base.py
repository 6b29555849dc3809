"""What every SQL repository shares: the unit of work's connection, insert-once statements and
newest-first pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, insert, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from chatsvg.application.ports import Position

if TYPE_CHECKING:
    from chatsvg.adapters.sql.uow import SqlUnitOfWork


def newest_first(stmt: Select[Any], table: Any, before: Position | None, limit: int) -> Select[Any]:
    """One page of a newest-first list: rows older than `before` (created_at, id), at most `limit`."""
    if before is not None:
        stmt = stmt.where(tuple_(table.c.created_at, table.c.id) < tuple_(before[0], before[1]))
    return stmt.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit)


_INSERT_ONCE: dict[tuple[str, str, tuple[str, ...], bool], Any] = {}


def insert_once(
    dialect: str, table: Any, unique: tuple[str, ...], *, returning: bool = False
) -> Any:
    """INSERT ... ON CONFLICT (unique) DO NOTHING for this dialect, built once per table; with
    `returning`, the statement answers the ids of the rows it wrote. A row with a NULL in `unique`
    never conflicts (SQL's rule for unique keys)."""
    key = (dialect, table.name, unique, returning)
    stmt = _INSERT_ONCE.get(key)
    if stmt is None:
        dialect_module = postgresql if dialect == "postgresql" else sqlite
        stmt = dialect_module.insert(table).on_conflict_do_nothing(index_elements=list(unique))
        if returning:
            stmt = stmt.returning(table.c.id)
        _INSERT_ONCE[key] = stmt
    return stmt


class SqlRepository:
    """A repository bound to one unit of work: it runs its statements in that transaction."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    @property
    def _c(self) -> AsyncConnection:
        return self._uow.connection

    @property
    def _dialect(self) -> str:
        return self._uow.dialect

    async def _insert_reporting(
        self, table: Any, unique: tuple[str, ...], rows: list[dict[str, Any]]
    ) -> set[str]:
        """Insert rows, those tied to a job (`job_id` set) once per `unique` key: the ids written."""
        once = [row for row in rows if row["job_id"] is not None]
        plain = [row for row in rows if row["job_id"] is None]
        written: set[str] = set()
        if once:
            stmt = insert_once(self._dialect, table, unique, returning=True)
            written.update((await self._c.execute(stmt, once)).scalars())
        if plain:
            await self._c.execute(insert(table), plain)
            written.update(row["id"] for row in plain)
        return written
