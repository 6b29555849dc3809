"""Many Socket.IO clients in one process, recording when each job update arrives.

    .venv/bin/python bench/socket_clients.py --url URL --tokens FILE --first 0 --count 500 --out FILE

Client i authenticates with line (first + i) % lines of FILE (`auth={"token": ...}`), websocket
transport only. Prints ``READY <connected> <failed>`` once every client is connected (or has
failed), then records every `generation-job:update` with its arrival time (time.time(), the same
clock the API and worker stamp Postgres with) until a line ``STOP`` arrives on stdin or
--max-seconds pass; then writes the records as JSON to --out and prints ``DONE``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import sys
import time
from typing import Any

import socketio
import uvloop


class Fleet:
    def __init__(self, url: str, tokens: list[str], first: int, count: int) -> None:
        self.url = url
        self.tokens = [tokens[(first + i) % len(tokens)] for i in range(count)]
        self.first = first
        self.clients: list[socketio.AsyncClient] = []
        # (arrival, client index, job id, status, progress)
        self.events: list[tuple[float, int, str, str, int]] = []
        self.disconnects = 0

    def _client(self, index: int) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)
        events = self.events

        async def on_update(data: Any) -> None:
            events.append(
                (
                    time.time(),
                    index,
                    str(data.get("jobId")),
                    str(data.get("status")),
                    int(data.get("progress") or 0),
                )
            )

        async def on_disconnect(*_: Any) -> None:
            self.disconnects += 1

        client.on("generation-job:update", on_update)
        client.on("disconnect", on_disconnect)
        return client

    async def connect_all(self, concurrency: int) -> tuple[int, int]:
        limit = asyncio.Semaphore(concurrency)
        failed = 0

        async def one(i: int) -> None:
            nonlocal failed
            client = self._client(self.first + i)
            async with limit:
                try:
                    await client.connect(
                        self.url,
                        auth={"token": self.tokens[i]},
                        transports=["websocket"],
                        wait_timeout=15,
                    )
                    self.clients.append(client)
                except Exception:
                    failed += 1

        await asyncio.gather(*(one(i) for i in range(len(self.tokens))))
        return len(self.clients), failed

    async def close(self) -> None:
        limit = asyncio.Semaphore(50)

        async def one(client: socketio.AsyncClient) -> None:
            async with limit:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.disconnect(), 5)

        await asyncio.gather(*(one(c) for c in self.clients))


async def wait_for_stop(max_seconds: float) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def read() -> None:
        while True:
            line = await reader.readline()
            if not line or line.strip() == b"STOP":
                return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(read(), max_seconds)


async def main(args: argparse.Namespace) -> None:
    with open(args.tokens) as handle:
        tokens = [line.strip() for line in handle if line.strip()]
    fleet = Fleet(args.url, tokens, args.first, args.count)
    started = time.monotonic()
    connected, failed = await fleet.connect_all(args.concurrency)
    # 500 clients are a large heap; a full collection of it pauses this process for tens of
    # milliseconds and the events that arrive meanwhile would be stamped late. Measure the
    # server, not this process's garbage collector.
    gc.collect()
    gc.freeze()
    print(f"READY {connected} {failed} {time.monotonic() - started:.1f}", flush=True)
    await wait_for_stop(args.max_seconds)
    lost = fleet.disconnects
    await fleet.close()
    with open(args.out, "w") as handle:
        json.dump(
            {"connected": connected, "failed": failed, "disconnects": lost, "events": fleet.events},
            handle,
        )
    print("DONE", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--out", required=True)
    parser.add_argument("--max-seconds", type=float, default=150)
    uvloop.run(main(parser.parse_args()))
