"""Object storage on the local disk (local mode). Download URLs come from ApiServedStorage."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


class LocalDiskStorage:
    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._root.mkdir(parents=True, exist_ok=True)

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

    async def signed_url(
        self, key: str, *, expires_in: int, filename: str, attachment: bool = True
    ) -> str:
        raise NotImplementedError("local files are served through ApiServedStorage")
