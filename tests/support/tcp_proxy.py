"""A TCP proxy in front of a real service (Postgres, Redis, an S3 server) that can take it away.

`outage(seconds)` does to every client what a network partition or a service restart does:
every open connection is cut at once, and for `seconds` new connections are refused (nothing
listens on the port); then the service is reachable again on the same address. The service
itself keeps running and keeps its data, so what is tested is how the clients cope.

It runs its own event loop in a thread, so tests drive it with plain calls::

    with TcpProxy("127.0.0.1", 5432) as proxy:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{proxy.port}/db"
        ...
        proxy.outage(3.0)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from types import TracebackType
from typing import Self


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int, *, host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.port = _free_port(host)
        self.cuts = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="proxy")
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.WriteTransport] = set()
        self._down_until = 0.0

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            self._call(self._close(cut=True))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def outage(self, seconds: float) -> None:
        """Cut every connection and refuse new ones for `seconds`, then listen again. Blocks."""
        self.cut()
        time.sleep(seconds)
        self._call(self._listen())

    def cut(self) -> None:
        """Begin an outage: cut every connection and stop listening (`restore` ends it)."""
        self.cuts += 1
        self._call(self._close(cut=True))

    def restore(self) -> None:
        self._call(self._listen())

    @property
    def url_host(self) -> str:
        return f"{self.host}:{self.port}"

    def _call(self, coro: object, timeout: float = 10) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)  # type: ignore[arg-type]

    async def _listen(self) -> None:
        if self._server is not None:
            return
        for _ in range(50):  # the port may linger a moment after the last close
            try:
                self._server = await asyncio.start_server(
                    self._handle, self.host, self.port, reuse_address=True
                )
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise RuntimeError(f"proxy could not listen on {self.host}:{self.port} again")

    async def _close(self, *, cut: bool) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        if cut:
            for transport in list(self._transports):
                transport.abort()  # a reset, as when the peer vanishes
            self._transports.clear()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        pair = [writer.transport, up_writer.transport]
        self._transports.update(pair)  # type: ignore[arg-type]
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            for transport in pair:
                self._transports.discard(transport)  # type: ignore[arg-type]
                transport.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            if writer.can_write_eof():
                writer.write_eof()


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
