"""What GET /api/files serves: an object of the API-served storage behind a signed, expiring link."""

from __future__ import annotations

from dataclasses import dataclass

from chatsvg.adapters.storage.content_disposition import content_disposition
from chatsvg.adapters.storage.signed_urls import ApiServedStorage, SignatureInvalid
from chatsvg.application.ports import ObjectStorage


class LinkInvalid(Exception):
    """The link was changed or has expired."""


@dataclass(frozen=True)
class ServedFile:
    data: bytes
    content_disposition: str


class SignedFiles:
    """Checks a link's signature and reads its object. With S3 presigned URLs handed to browsers
    (`CHATSVG_S3_DIRECT_URLS`) the API serves no files: `enabled` is False."""

    def __init__(self, storage: ObjectStorage) -> None:
        self._storage = storage if isinstance(storage, ApiServedStorage) else None

    @property
    def enabled(self) -> bool:
        return self._storage is not None

    async def open(
        self, key: str, *, expires: str, attachment: str, filename: str, signature: str
    ) -> ServedFile | None:
        """The object behind a valid link, None when there is none; raises LinkInvalid."""
        if self._storage is None:
            return None
        try:
            as_attachment = self._storage.verify(
                key,
                expires=expires,
                attachment=attachment,
                filename=filename,
                signature=signature,
            )
        except SignatureInvalid:
            raise LinkInvalid() from None
        data = await self._storage.get(key)
        if data is None:
            return None
        return ServedFile(data, content_disposition(filename, attachment=as_attachment))
