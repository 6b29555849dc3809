"""The embedded job queue: an asyncio queue inside the API process, for local mode and tests.

It has the same contract as the Dramatiq one: messages carry only a job id; delivery is
at-least-once (the use case tolerates duplicates); a handler returning a delay is retried after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

JobHandler = Callable[[str], Awaitable[float | None]]


class InProcessJobQueue:
    def __init__(self, *, concurrency: int = 64) -> None:
        self._concurrency = concurrency
        self._queue: asyncio.Queue[str] | None = None
        self._handler: JobHandler | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._busy = 0

    async def enqueue(self, job_id: str, *, delay_seconds: float = 0.0) -> None:
        queue = self._ensure_queue()
        if delay_seconds > 0:
            loop = asyncio.get_running_loop()

            def fire() -> None:
                self._timers.discard(handle)
                queue.put_nowait(job_id)

            handle = loop.call_later(delay_seconds, fire)
            self._timers.add(handle)
        else:
            queue.put_nowait(job_id)

    async def ping(self) -> None:
        return None

    def _ensure_queue(self) -> asyncio.Queue[str]:
        if self._queue is None:
            self._queue = asyncio.Queue()
        return self._queue

    def start(self, handler: JobHandler) -> None:
        self._handler = handler
        queue = self._ensure_queue()
        self._workers = [asyncio.create_task(self._work(queue)) for _ in range(self._concurrency)]

    async def _work(self, queue: asyncio.Queue[str]) -> None:
        assert self._handler is not None
        while True:
            job_id = await queue.get()
            self._busy += 1
            try:
                delay = await self._handler(job_id)
                if delay is not None:
                    await self.enqueue(job_id, delay_seconds=delay)
            except Exception:
                log.exception("job handler crashed", extra={"job_id": job_id})
            finally:
                self._busy -= 1
                queue.task_done()

    @property
    def depth(self) -> int:
        return (self._queue.qsize() if self._queue else 0) + len(self._timers)

    async def join(self, timeout: float = 10.0) -> None:
        """Wait until nothing is queued, scheduled or running (tests and graceful shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (self._queue and self._queue.qsize()) or self._timers or self._busy:
            if loop.time() > deadline:
                raise TimeoutError("queue did not drain")
            await asyncio.sleep(0.01)

    async def stop(self, grace: float = 10.0) -> None:
        """Let running jobs finish (up to `grace`); queued ones stay QUEUED and the reaper re-enqueues them."""
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self._busy and loop.time() < deadline:
            await asyncio.sleep(0.02)
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []
