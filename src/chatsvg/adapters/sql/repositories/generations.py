"""Stored SVG generations (the gallery's rows)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update

from chatsvg.adapters.sql import tables as t
from chatsvg.adapters.sql.driver_statement import DriverStatement
from chatsvg.adapters.sql.repositories.base import SqlRepository, newest_first
from chatsvg.application.ports import Position
from chatsvg.domain.generation.generations import SvgGeneration

_G = t.svg_generations
_FIELDS = [
    "id",
    "user_id",
    "job_id",
    "prompt",
    "style",
    "model",
    "privacy",
    "storage_key",
    "size_bytes",
    "created_at",
    "parent_id",
    "variant",
]
# Run for every finished job: built once.
_INSERT = insert(_G)
_INSERT_MANY = DriverStatement(_INSERT)  # in the finish's transaction, one round trip


def _generation(row: Any) -> SvgGeneration:
    return SvgGeneration(**{name: getattr(row, name) for name in _FIELDS})


def _values(generation: SvgGeneration) -> dict[str, Any]:
    return {name: getattr(generation, name) for name in _FIELDS}


class SqlGenerations(SqlRepository):
    async def add(self, generation: SvgGeneration) -> None:
        await self._c.execute(_INSERT, _values(generation))

    async def add_many(self, generations: list[SvgGeneration]) -> None:
        if generations:
            await self._uow.execute_many(_INSERT_MANY, [_values(g) for g in generations])

    async def get(self, generation_id: str) -> SvgGeneration | None:
        row = (await self._c.execute(select(_G).where(_G.c.id == generation_id))).first()
        return _generation(row) if row else None

    async def get_many(self, generation_ids: list[str]) -> list[SvgGeneration]:
        if not generation_ids:
            return []
        rows = await self._c.execute(select(_G).where(_G.c.id.in_(generation_ids)))
        return [_generation(r) for r in rows]

    async def for_jobs(self, job_ids: list[str]) -> list[SvgGeneration]:
        if not job_ids:
            return []
        stmt = select(_G).where(_G.c.job_id.in_(job_ids)).order_by(_G.c.job_id, _G.c.variant)
        return [_generation(r) for r in await self._c.execute(stmt)]

    async def update(self, generation: SvgGeneration) -> None:
        await self._c.execute(
            update(_G).where(_G.c.id == generation.id).values(privacy=generation.privacy)
        )

    async def delete(self, generation_id: str) -> None:
        await self._c.execute(delete(_G).where(_G.c.id == generation_id))

    async def list_for_user(
        self,
        user_id: str,
        *,
        limit: int,
        before: Position | None,
        style: str | None = None,
        model: str | None = None,
        privacy: bool | None = None,
    ) -> list[SvgGeneration]:
        stmt = select(_G).where(_G.c.user_id == user_id)
        if style:
            stmt = stmt.where(_G.c.style == style)
        if model:
            stmt = stmt.where(_G.c.model == model)
        if privacy is not None:
            stmt = stmt.where(_G.c.privacy.is_(privacy))
        return [
            _generation(r) for r in await self._c.execute(newest_first(stmt, _G, before, limit))
        ]

    async def list_public(
        self,
        *,
        limit: int,
        before: Position | None,
        style: str | None = None,
        model: str | None = None,
    ) -> list[SvgGeneration]:
        stmt = select(_G).where(_G.c.privacy.is_(False))
        if style:
            stmt = stmt.where(_G.c.style == style)
        if model:
            stmt = stmt.where(_G.c.model == model)
        return [
            _generation(r) for r in await self._c.execute(newest_first(stmt, _G, before, limit))
        ]

    async def keys_for_user(self, user_id: str) -> list[str]:
        rows = await self._c.execute(select(_G.c.storage_key).where(_G.c.user_id == user_id))
        return [r.storage_key for r in rows]

    async def all_keys(self) -> list[str]:
        return [r.storage_key for r in await self._c.execute(select(_G.c.storage_key))]
