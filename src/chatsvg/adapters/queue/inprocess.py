"""The embedded task queue: an asyncio queue inside the API process.

Local mode runs every task here (`generate`, `send_mail`); in production each API process runs the
tasks that belong to it here (`send_mail`: the API pods deliver mail, the worker sends none).
It has the contract of the Dramatiq queue: named tasks, delivered at least once (handlers tolerate
duplicates), run by the handlers of a `TaskRegistry`, which also re-enqueues a task after the delay
its handler returned. Tasks enqueued before `start` wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from chatsvg.application.ports import TaskPayload
from chatsvg.application.tasks import TaskRegistry, UnknownTask

log = logging.getLogger(__name__)

Item = tuple[str, TaskPayload]


class InProcessTaskQueue:
    def __init__(self, *, concurrency: int = 64) -> None:
        self._concurrency = concurrency
        self._queue: asyncio.Queue[Item] | None = None
        self._registry: TaskRegistry | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._busy = 0

    async def enqueue(self, task: str, payload: TaskPayload, *, delay_seconds: float = 0.0) -> None:
        if self._registry is not None and task not in self._registry:
            raise UnknownTask(task)
        queue = self._ensure_queue()
        item = (task, payload)
        if delay_seconds > 0:
            loop = asyncio.get_running_loop()

            def fire() -> None:
                self._timers.discard(handle)
                queue.put_nowait(item)

            handle = loop.call_later(delay_seconds, fire)
            self._timers.add(handle)
        else:
            queue.put_nowait(item)

    async def ping(self) -> None:
        return None

    def _ensure_queue(self) -> asyncio.Queue[Item]:
        if self._queue is None:
            self._queue = asyncio.Queue()
        return self._queue

    @property
    def started(self) -> bool:
        return self._registry is not None

    def start(self, registry: TaskRegistry) -> None:
        """Run the tasks `registry` names, `concurrency` at a time, on the running loop."""
        self._registry = registry
        queue = self._ensure_queue()
        self._workers = [asyncio.create_task(self._work(queue)) for _ in range(self._concurrency)]

    async def _work(self, queue: asyncio.Queue[Item]) -> None:
        registry = self._registry
        assert registry is not None
        while True:
            task, payload = await queue.get()
            self._busy += 1
            try:
                await registry.run(task, payload, requeue=self)
            except Exception:
                log.exception("task crashed", extra=registry.log_context(task, payload))
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
        """Let running tasks finish (up to `grace`); what is still queued is in the database, and
        its sweep hands it back (a QUEUED job to the reaper, a pending mail to the outbox sweep)."""
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
