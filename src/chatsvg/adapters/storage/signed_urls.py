"""Download URLs signed by us and served by the API, whatever the storage behind them.

Serving the bytes ourselves (SVGs are small) is what lets every download carry the headers a
hostile SVG needs to stay inert when opened as a page — nosniff and a sandboxing CSP — which S3's
presigned response overrides cannot set. The URL itself is the credential: HMAC over key, expiry,
disposition and filename, so any change to it, or a late use, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote, urlencode

from chatsvg.application.ports import Clock, ObjectStorage

FILES_PATH = "/api/files"


class SignatureInvalid(Exception):
    """The URL was tampered with or has expired."""


class ApiServedStorage:
    """An ObjectStorage whose signed URLs point at the API's /api/files route."""

    def __init__(
        self, inner: ObjectStorage, *, secret: str, public_base_url: str, clock: Clock
    ) -> None:
        self.inner = inner
        self._secret = hashlib.sha256(b"chatsvg-files:" + secret.encode()).digest()
        self.public_base_url = public_base_url.rstrip("/")
        self._clock = clock

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self.inner.put(key, data, content_type)

    async def get(self, key: str) -> bytes | None:
        return await self.inner.get(key)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def exists(self, key: str) -> bool:
        return await self.inner.exists(key)

    async def ping(self) -> None:
        await self.inner.ping()

    def _sign(self, key: str, expires: int, attachment: bool, filename: str) -> str:
        message = f"{key}\n{expires}\n{int(attachment)}\n{filename}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    async def signed_url(
        self, key: str, *, expires_in: int, filename: str, attachment: bool = True
    ) -> str:
        expires = int(self._clock.now().timestamp()) + expires_in
        query = urlencode(
            {
                "exp": expires,
                "dl": int(attachment),
                "fn": filename,
                "sig": self._sign(key, expires, attachment, filename),
            }
        )
        return f"{self.public_base_url}{FILES_PATH}/{quote(key)}?{query}"

    def verify(
        self, key: str, *, expires: str, attachment: str, filename: str, signature: str
    ) -> bool:
        """Return whether the URL asks for an attachment; raise SignatureInvalid if forged or expired."""
        try:
            exp = int(expires)
        except ValueError:
            raise SignatureInvalid("malformed") from None
        dl = attachment == "1"
        if not hmac.compare_digest(self._sign(key, exp, dl, filename), signature or ""):
            raise SignatureInvalid("bad signature")
        if exp < self._clock.now().timestamp():
            raise SignatureInvalid("expired")
        return dl
