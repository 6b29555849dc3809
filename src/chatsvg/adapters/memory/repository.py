"""What every in-memory repository shares: the tables of its unit of work, newest-first pages."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from chatsvg.adapters.memory.tables import MemoryTables
from chatsvg.application.ports import Position

if TYPE_CHECKING:
    from chatsvg.adapters.memory.store import MemoryUnitOfWork


class _Dated(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


T = TypeVar("T", bound=_Dated)


def newest_first(rows: Iterable[T], before: Position | None, limit: int) -> list[T]:
    """One page, ordered by (created_at, id) descending, of rows older than `before`; copies."""
    ordered = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)
    if before is not None:
        ordered = [r for r in ordered if (r.created_at, r.id) < before]
    return [copy.copy(r) for r in ordered[:limit]]


class MemoryRepository:
    """A repository bound to one unit of work: it reads and writes that transaction's tables."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    @property
    def _db(self) -> MemoryTables:
        return self._uow.tables
