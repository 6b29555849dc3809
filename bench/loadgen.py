"""An open-loop HTTP/1.1 load generator: requests leave on a fixed schedule whatever the server does.

    .venv/bin/python bench/loadgen.py SPEC.json

SPEC: {"host", "port", "requests": [raw HTTP requests, used in turn], "rate" (req/s),
"duration" (s, measured), "warmup" (s, sent but not measured), "max_connections",
"drain" (s to wait for stragglers)}. Prints one JSON report line on stdout.

Latency is measured from each request's *scheduled* send time to the end of its response, so a
server that falls behind is charged for the queueing it causes (no coordinated omission). It runs
on uvloop with httptools' C response parser over plain keep-alive connections: a few percent of
one core at 300 req/s, so on this 2-core machine the generator is not what limits the figures.
"""

from __future__ import annotations

import asyncio
import collections
import json
import math
import resource
import sys
import time
from typing import Any

import httptools
import uvloop


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Connection(asyncio.Protocol):
    def __init__(self, gen: OpenLoop) -> None:
        self.gen = gen
        self.transport: Any = None  # uvloop's transports are not asyncio.Transport subclasses
        self.parser = httptools.HttpResponseParser(self)
        self.scheduled = 0.0
        self.busy = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._fail("parse error")

    def connection_lost(self, exc: Exception | None) -> None:
        self.gen.forget(self)
        if self.busy:
            self.busy = False
            self.gen.record(self.scheduled, 0)

    # httptools callbacks
    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        self.busy = False
        self.gen.record(self.scheduled, status)
        if self.parser.should_keep_alive():
            self.gen.release(self)
        else:
            self._close()

    def send(self, scheduled: float, request: bytes) -> None:
        assert self.transport is not None
        self.scheduled = scheduled
        self.busy = True
        self.transport.write(request)

    def _fail(self, _why: str) -> None:
        if self.busy:
            self.busy = False
            self.gen.record(self.scheduled, 0)
        self._close()

    def _close(self) -> None:
        self.gen.forget(self)
        if self.transport is not None:
            self.transport.close()


class OpenLoop:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.host = str(spec["host"])
        self.port = int(spec["port"])
        self.requests = [str(r).encode() for r in spec["requests"]]
        self.rate = float(spec["rate"])
        self.duration = float(spec["duration"])
        self.warmup = float(spec.get("warmup", 2.0))
        self.max_connections = int(spec.get("max_connections", 256))
        self.initial_connections = int(spec.get("initial_connections", 16))
        self.drain = float(spec.get("drain", 10.0))
        self.idle: list[Connection] = []
        self.open: set[Connection] = set()
        self.connecting = 0
        self.backlog: collections.deque[tuple[float, bytes]] = collections.deque()
        # (scheduled, completed, status)
        self.samples: list[tuple[float, float, int]] = []
        self.outstanding = 0
        self.connect_errors = 0
        self.max_backlog = 0
        self.max_open = 0
        self.loop = asyncio.get_running_loop()

    # -- pool -------------------------------------------------------------------------------

    def release(self, conn: Connection) -> None:
        if self.backlog:
            scheduled, request = self.backlog.popleft()
            conn.send(scheduled, request)
        else:
            self.idle.append(conn)

    def forget(self, conn: Connection) -> None:
        self.open.discard(conn)
        if conn in self.idle:
            self.idle.remove(conn)

    def record(self, scheduled: float, status: int) -> None:
        self.outstanding -= 1
        self.samples.append((scheduled, time.perf_counter(), status))

    async def _connect(self) -> Connection | None:
        self.connecting += 1
        try:
            _, proto = await self.loop.create_connection(
                lambda: Connection(self), self.host, self.port
            )
        except OSError:
            self.connect_errors += 1
            return None
        finally:
            self.connecting -= 1
        self.open.add(proto)
        self.max_open = max(self.max_open, len(self.open))
        return proto

    async def _connect_and_serve(self) -> None:
        conn = await self._connect()
        if conn is None:
            if self.backlog:  # could not connect: the request it was opened for fails
                scheduled, _ = self.backlog.popleft()
                self.record(scheduled, 0)
            return
        self.release(conn)

    def submit(self, scheduled: float, request: bytes) -> None:
        self.outstanding += 1
        while self.idle:
            conn = self.idle.pop()
            if conn.transport is not None and not conn.transport.is_closing():
                conn.send(scheduled, request)
                return
        self.backlog.append((scheduled, request))
        self.max_backlog = max(self.max_backlog, len(self.backlog))
        if len(self.open) + self.connecting < self.max_connections:
            self.loop.create_task(self._connect_and_serve())

    # -- run --------------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        for conn in await asyncio.gather(
            *(self._connect() for _ in range(self.initial_connections))
        ):
            if conn is not None:
                self.idle.append(conn)
        # perf_counter, not loop.time(): uvloop's clock ticks in whole milliseconds.
        start = time.perf_counter() + 0.05
        measure_from = start + self.warmup
        measure_to = measure_from + self.duration
        total = round((self.warmup + self.duration) * self.rate)
        cpu0 = 0.0
        cpu_marked = False
        for i in range(total):
            when = start + i / self.rate
            delay = when - time.perf_counter()
            if delay > 0.0005:
                await asyncio.sleep(delay)
            if not cpu_marked and when >= measure_from:
                cpu0, cpu_marked = _cpu_seconds(), True
            self.submit(when, self.requests[i % len(self.requests)])
        late = time.perf_counter() - (start + (total - 1) / self.rate)
        cpu_sending = _cpu_seconds() - cpu0
        deadline = time.perf_counter() + self.drain
        while self.outstanding > 0 and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        unfinished = self.outstanding
        for conn in list(self.open):
            if conn.transport is not None:
                conn.transport.close()
        return self._report(measure_from, measure_to, unfinished, late, cpu_sending)

    def _report(
        self,
        measure_from: float,
        measure_to: float,
        unfinished: int,
        late: float,
        cpu_sending: float,
    ) -> dict[str, Any]:
        measured = [s for s in self.samples if measure_from <= s[0] < measure_to]
        ok = [s for s in measured if 200 <= s[2] < 300]
        latencies = sorted((done - scheduled) * 1000 for scheduled, done, _ in ok)
        completed_in_window = sum(
            1 for s in self.samples if measure_from <= s[1] < measure_to and 200 <= s[2] < 300
        )
        statuses: collections.Counter[int] = collections.Counter(s[2] for s in measured)

        def pct(p: float) -> float:
            if not latencies:
                return math.nan
            return latencies[min(len(latencies), max(1, math.ceil(p / 100 * len(latencies)))) - 1]

        return {
            "target_rate": self.rate,
            "duration": self.duration,
            "sent": round(self.duration * self.rate),
            "measured": len(measured),
            "ok": len(ok),
            "errors": len(measured) - len(ok),
            "unfinished": unfinished,
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "achieved_rate": completed_in_window / self.duration,
            "p50_ms": pct(50),
            "p90_ms": pct(90),
            "p99_ms": pct(99),
            "p999_ms": pct(99.9),
            "max_ms": latencies[-1] if latencies else math.nan,
            "mean_ms": sum(latencies) / len(latencies) if latencies else math.nan,
            "connections": self.max_open,
            "max_backlog": self.max_backlog,
            "connect_errors": self.connect_errors,
            "sender_late_ms": late * 1000,
            "loadgen_cpu_percent": 100 * cpu_sending / self.duration,
            "samples_ms": [
                [round((s[0] - measure_from) * 1000, 2), round((s[1] - s[0]) * 1000, 3), s[2]]
                for s in measured
            ]
            if self.rate * self.duration <= 20_000
            else [],
        }


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    return await OpenLoop(spec).run()


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        given = json.load(handle)
    started = time.monotonic()
    report = uvloop.run(main(given))
    report["wall_seconds"] = time.monotonic() - started
    print(json.dumps(report))
