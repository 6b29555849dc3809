"""Ports of the public gallery."""

from __future__ import annotations

from typing import Protocol

from chatsvg.domain.generation.generations import SvgGeneration


class GalleryCache(Protocol):
    """The public gallery's first pages, shared by every API process. Reads fall back to the
    database on any miss or failure; every change to what is public invalidates it at once."""

    async def get(self, key: str) -> list[SvgGeneration] | None: ...

    async def put(self, key: str, rows: list[SvgGeneration]) -> None: ...

    async def invalidate(self) -> None: ...
