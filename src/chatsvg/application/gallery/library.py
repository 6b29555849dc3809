"""The user's stored generations, the public gallery, downloads and the credit ledger."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatsvg.application.pagination import Page, check_limit, decode_cursor, paginate
from chatsvg.application.ports import Clock, GalleryCache, ObjectStorage, UnitOfWorkFactory
from chatsvg.domain.credits.ledger import LedgerEntry
from chatsvg.domain.errors import NotFound, ValidationFailed
from chatsvg.domain.generation.generations import SvgGeneration

DOWNLOAD_SECONDS = 300
IMAGE_SECONDS = 900


@dataclass(frozen=True)
class GenerationItem:
    generation: SvgGeneration
    svg_url: str


@dataclass(frozen=True)
class Download:
    url: str
    expires_at: datetime


def download_filename(generation: SvgGeneration) -> str:
    """The prompt's words (letters and digits of any script; the storage headers carry them as
    UTF-8 with an ASCII fallback) and the generation's id: "café-au-lait-1a2b3c4d.svg"."""
    words = unicodedata.normalize("NFC", generation.prompt).lower()
    slug = re.sub(r"[\W_]+", "-", words).strip("-")[:40].strip("-") or "chatsvg"
    return f"{slug}-{generation.id[:8]}.svg"


class GenerationLibrary:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        storage: ObjectStorage,
        clock: Clock,
        gallery: GalleryCache | None = None,
    ) -> None:
        self._uow = uow
        self._storage = storage
        self._clock = clock
        self._gallery = gallery

    async def _owned(self, user_id: str, generation_id: str) -> SvgGeneration:
        async with self._uow() as uow:
            generation = await uow.generations.get(generation_id)
        if generation is None or generation.user_id != user_id:
            raise NotFound("Generation not found.")
        return generation

    async def _image_url(self, generation: SvgGeneration) -> str:
        return await self._storage.signed_url(
            generation.storage_key,
            expires_in=IMAGE_SECONDS,
            filename=download_filename(generation),
            attachment=False,
        )

    async def list_for_user(
        self,
        user_id: str,
        *,
        limit: int | None,
        cursor: str | None,
        style: str | None,
        model: str | None,
        privacy: str | None,
    ) -> Page[GenerationItem]:
        size = check_limit(limit)
        privacy_filter: bool | None
        match (privacy or "all").lower():
            case "all":
                privacy_filter = None
            case "public":
                privacy_filter = False
            case "private":
                privacy_filter = True
            case _:
                raise ValidationFailed(
                    "privacy must be all, public or private.",
                    details=[{"field": "privacy", "message": "invalid"}],
                )
        async with self._uow() as uow:
            rows = await uow.generations.list_for_user(
                user_id,
                limit=size + 1,
                before=decode_cursor(cursor),
                style=style or None,
                model=model or None,
                privacy=privacy_filter,
            )
        page = paginate(rows, size, lambda g: (g.created_at, g.id))
        items = [GenerationItem(g, await self._image_url(g)) for g in page.items]
        return Page(items, page.next_cursor)

    async def public(
        self, *, limit: int | None, cursor: str | None, style: str | None, model: str | None
    ) -> Page[SvgGeneration]:
        size = check_limit(limit)
        position = decode_cursor(cursor)
        cache_key = (
            f"{size}|{style or ''}|{model or ''}" if position is None and self._gallery else None
        )
        rows = await self._gallery.get(cache_key) if self._gallery and cache_key else None
        if rows is None:
            async with self._uow() as uow:
                rows = await uow.generations.list_public(
                    limit=size + 1, before=position, style=style or None, model=model or None
                )
            if self._gallery and cache_key:
                await self._gallery.put(cache_key, rows)
        return paginate(rows, size, lambda g: (g.created_at, g.id))

    async def source(self, viewer_id: str | None, generation_id: str) -> tuple[SvgGeneration, str]:
        async with self._uow() as uow:
            generation = await uow.generations.get(generation_id)
        if generation is None or (generation.privacy and generation.user_id != viewer_id):
            raise NotFound("Generation not found.")
        data = await self._storage.get(generation.storage_key)
        if data is None:
            raise NotFound("Generation not found.")
        return generation, data.decode("utf-8")

    async def viewable(self, viewer_id: str | None, generation_id: str) -> str:
        """A short-lived URL of the image, for the owner or, when public, for anyone."""
        async with self._uow() as uow:
            generation = await uow.generations.get(generation_id)
        if generation is None or (generation.privacy and generation.user_id != viewer_id):
            raise NotFound("Generation not found.")
        return await self._image_url(generation)

    async def download(self, user_id: str, generation_id: str) -> Download:
        generation = await self._owned(user_id, generation_id)
        expires_at = self._clock.now() + timedelta(seconds=DOWNLOAD_SECONDS)
        url = await self._storage.signed_url(
            generation.storage_key,
            expires_in=DOWNLOAD_SECONDS,
            filename=download_filename(generation),
        )
        return Download(url, expires_at)

    async def set_privacy(self, user_id: str, generation_id: str, privacy: bool) -> SvgGeneration:
        async with self._uow() as uow:
            generation = await uow.generations.get(generation_id)
            if generation is None or generation.user_id != user_id:
                raise NotFound("Generation not found.")
            changed = generation.set_privacy(privacy)
            await uow.generations.update(generation)
            await uow.commit()
        if changed and self._gallery:
            await self._gallery.invalidate()
        return generation

    async def delete(self, user_id: str, generation_id: str) -> None:
        async with self._uow() as uow:
            generation = await uow.generations.get(generation_id)
            if generation is None or generation.user_id != user_id:
                raise NotFound("Generation not found.")
            await uow.generations.delete(generation_id)
            await uow.commit()
        if generation.public and self._gallery:
            await self._gallery.invalidate()
        # After the commit: a failed delete leaves an unreferenced object that `chatsvg gc` finds,
        # never a record pointing at nothing.
        await self._storage.delete(generation.storage_key)

    async def balance(self, user_id: str) -> int:
        async with self._uow() as uow:
            return await uow.ledger.balance(user_id)

    async def ledger(
        self, user_id: str, *, limit: int | None, cursor: str | None
    ) -> Page[LedgerEntry]:
        size = check_limit(limit)
        async with self._uow() as uow:
            rows = await uow.ledger.entries(user_id, limit=size + 1, before=decode_cursor(cursor))
        return paginate(rows, size, lambda e: (e.created_at, e.id))
