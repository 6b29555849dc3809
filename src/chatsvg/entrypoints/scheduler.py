"""Periodic sweeps: one helper for every process (the API and the worker).

    scheduler = Scheduler()
    scheduler.every(15.0, "reaper", reaper.sweep)
    scheduler.every(5.0, "mail-outbox", outbox.sweep, immediately=True)
    scheduler.start()          # on the running event loop
    ...
    await scheduler.stop()

Each sweep runs on its own task: after `seconds` (± `jitter` of it, so that the processes of a
deployment do not sweep in step), then again `seconds` after the previous run ended (runs of one
sweep never overlap). A run that raises is logged and the next one comes as usual; only `stop()`
ends a sweep.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("chatsvg.scheduler")

Sweep = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class Periodic:
    seconds: float
    name: str
    sweep: Sweep
    jitter: float
    immediately: bool


class Scheduler:
    def __init__(
        self,
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self._sleep = sleep
        self._uniform = uniform
        self._periodic: list[Periodic] = []
        self._tasks: list[asyncio.Task[None]] = []

    def every(
        self,
        seconds: float,
        name: str,
        sweep: Sweep,
        *,
        jitter: float = 0.1,
        immediately: bool = False,
    ) -> None:
        """Run `sweep()` every `seconds`; with `immediately`, once at start too."""
        if seconds <= 0:
            raise ValueError(f"{name}: the interval must be positive, not {seconds}")
        if not 0 <= jitter < 1:
            raise ValueError(f"{name}: jitter is a fraction of the interval, in [0, 1)")
        periodic = Periodic(seconds, name, sweep, jitter, immediately)
        self._periodic.append(periodic)
        if self._tasks:  # started already: this one starts now
            self._tasks.append(self._spawn(periodic))

    @property
    def names(self) -> list[str]:
        return [p.name for p in self._periodic]

    def start(self) -> None:
        """Start every sweep on the running event loop."""
        if self._tasks:
            raise RuntimeError("the scheduler is running already")
        self._tasks = [self._spawn(p) for p in self._periodic]

    async def stop(self, timeout: float = 5.0) -> None:
        """Cancel every sweep (a run in progress is interrupted) and wait for them to end, at
        most `timeout` seconds: a run stuck in its clean-up does not hold a shutdown up."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
        if pending:
            log.warning(
                "periodic sweeps still ending after %.0f s: %s",
                timeout,
                ", ".join(task.get_name() for task in pending),
            )

    def _spawn(self, periodic: Periodic) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(
            self._run(periodic), name=f"periodic:{periodic.name}"
        )

    def _pause(self, periodic: Periodic) -> float:
        spread = periodic.seconds * periodic.jitter
        return periodic.seconds + self._uniform(-spread, spread)

    async def _run(self, periodic: Periodic) -> None:
        if periodic.immediately:
            await self._once(periodic)
        while True:
            await self._sleep(self._pause(periodic))
            await self._once(periodic)

    async def _once(self, periodic: Periodic) -> None:
        try:
            await periodic.sweep()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic %s failed", periodic.name, extra={"periodic": periodic.name})
