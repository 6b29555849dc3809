"""Object storage on the local disk, with HMAC-signed, expiring download URLs served by the app."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from chatsvg.application.ports import Clock

FILES_PATH = "/api/files"


class SignatureInvalid(Exception):
    """The URL was tampered with or has expired."""


class LocalDiskStorage:
    def __init__(self, root: Path, *, secret: str, public_base_url: str, clock: Clock) -> None:
        self._root = root.resolve()
        self._root.mkdir(parents=True, exist_ok=True)
        self._secret = hashlib.sha256(b"chatsvg-files:" + secret.encode()).digest()
        self.public_base_url = public_base_url.rstrip("/")
        self._clock = clock

    def _path(self, key: str) -> Path:
        path = (self._root / key).resolve()
        if self._root not in path.parents:
            raise ValueError("key escapes the storage root")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)  # atomic: a reader never sees half a file

        await asyncio.to_thread(write)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)

    async def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    async def keys(self) -> list[str]:
        return [str(p.relative_to(self._root)) for p in self._root.rglob("*.svg")]

    async def ping(self) -> None:
        if not self._root.is_dir():
            raise RuntimeError("storage root missing")

    def _sign(self, key: str, expires: int, attachment: bool, filename: str) -> str:
        message = f"{key}\n{expires}\n{int(attachment)}\n{filename}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    async def signed_url(self, key: str, *, expires_in: int, filename: str, attachment: bool = True) -> str:
        expires = int(self._clock.now().timestamp()) + expires_in
        query = urlencode(
            {"exp": expires, "dl": int(attachment), "fn": filename, "sig": self._sign(key, expires, attachment, filename)}
        )
        return f"{self.public_base_url}{FILES_PATH}/{quote(key)}?{query}"

    def verify(self, key: str, *, expires: str, attachment: str, filename: str, signature: str) -> bool:
        """True when the URL is as signed and not expired. Raises SignatureInvalid otherwise."""
        try:
            exp = int(expires)
            dl = attachment == "1"
        except ValueError:
            raise SignatureInvalid("malformed") from None
        expected = self._sign(key, exp, dl, filename)
        if not hmac.compare_digest(expected, signature or ""):
            raise SignatureInvalid("bad signature")
        if exp < time.time() and exp < self._clock.now().timestamp():
            raise SignatureInvalid("expired")
        return dl
