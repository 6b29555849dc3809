"""Gathering concurrent requests into one transaction each."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Batches(Generic[Item, Result]):
    """Gathers requests into batches for one transaction each.

    A request made while a batch is being prepared or run waits for the next one: under load
    batches fill up, idle a request runs at once on its own. At most `limit` batches run at once,
    each of at most `size` requests. `run` answers one result per request, in order; if it
    raises, every request of its batch gets the error.
    """

    def __init__(
        self, run: Callable[[list[Item]], Awaitable[list[Result]]], *, limit: int, size: int
    ) -> None:
        self._run = run
        self._limit = limit if limit > 0 else sys.maxsize
        self._size = max(1, size)
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._running < self._limit:
            self._running += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self) -> None:
        try:
            await asyncio.sleep(0)  # the requests made in this pass of the loop come along
            while self._waiting:
                batch = self._waiting[: self._size]
                del self._waiting[: self._size]
                try:
                    results = await self._run([item for item, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # its attempt may have been cancelled meanwhile
                        future.set_result(result)
        finally:
            self._running -= 1


# Faults that speak of the provider's health, and count towards opening the circuit.
