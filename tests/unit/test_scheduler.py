"""The periodic sweeps' helper: runs on its interval (with jitter), survives a failing run, stops.

The scheduler is given a fake sleep that records each pause and yields once, so the tests read
the schedule it asked for instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from chatsvg.entrypoints.scheduler import Scheduler


class FakeSleep:
    def __init__(self) -> None:
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        await asyncio.sleep(0)


async def settle(turns: int = 20) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)


async def test_a_sweep_runs_after_each_interval_with_jitter_until_stopped() -> None:
    sleep = FakeSleep()
    spreads: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        spreads.append((low, high))
        return high  # the longest pause it may take

    runs = 0
    enough = asyncio.Event()

    async def sweep() -> None:
        nonlocal runs
        runs += 1
        if runs == 3:
            enough.set()

    scheduler = Scheduler(sleep=sleep, uniform=uniform)
    scheduler.every(10.0, "sweep", sweep, jitter=0.1)
    scheduler.start()
    await asyncio.wait_for(enough.wait(), 5)
    await scheduler.stop()
    ran = runs
    assert ran >= 3
    # Each run came after a pause: the interval, moved by at most the jitter.
    assert sleep.pauses[:3] == [11.0, 11.0, 11.0]
    assert spreads[0] == (-1.0, 1.0)
    await settle()
    assert runs == ran, "nothing runs after stop()"
    await scheduler.stop()  # idempotent


async def test_immediately_runs_once_at_start_then_on_the_interval() -> None:
    sleep = FakeSleep()
    order: list[str] = []
    twice = asyncio.Event()

    async def sweep() -> None:
        order.append(f"run after {len(sleep.pauses)} pauses")
        if len(order) == 2:
            twice.set()

    scheduler = Scheduler(sleep=sleep)
    scheduler.every(5.0, "figures", sweep, jitter=0, immediately=True)
    scheduler.start()
    await asyncio.wait_for(twice.wait(), 5)
    await scheduler.stop()
    assert order[:2] == ["run after 0 pauses", "run after 1 pauses"]
    assert sleep.pauses[0] == 5.0


async def test_a_failing_run_is_logged_and_the_next_one_comes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs = 0
    recovered = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("database away")
        recovered.set()

    scheduler = Scheduler(sleep=FakeSleep())
    scheduler.every(1.0, "reaper", flaky)
    with caplog.at_level(logging.ERROR, logger="chatsvg.scheduler"):
        scheduler.start()
        await asyncio.wait_for(recovered.wait(), 5)
        await scheduler.stop()
    assert runs >= 2
    [failure] = [r for r in caplog.records if r.name == "chatsvg.scheduler"]
    assert failure.getMessage() == "periodic reaper failed"
    assert failure.exc_info is not None and "database away" in str(failure.exc_info[1])


async def test_stop_interrupts_a_run_in_progress_and_every_sweep_has_its_own_task() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()
    other_ran = asyncio.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # never ends by itself
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def other() -> None:
        other_ran.set()

    scheduler = Scheduler(sleep=FakeSleep())
    scheduler.every(1.0, "slow", slow, immediately=True)
    scheduler.every(1.0, "other", other)
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(other_ran.wait(), 5)  # not held back by the slow one
    await scheduler.stop()
    assert cancelled.is_set()
    assert scheduler.names == ["slow", "other"]


def test_an_interval_must_be_positive_and_jitter_a_fraction() -> None:
    scheduler = Scheduler()

    async def sweep() -> None:
        return None

    with pytest.raises(ValueError):
        scheduler.every(0, "never", sweep)
    with pytest.raises(ValueError):
        scheduler.every(1.0, "wild", sweep, jitter=1.5)


async def test_real_sleeps_space_the_runs_by_the_interval() -> None:
    """With asyncio's own sleep (the default): runs come an interval apart."""
    times: list[float] = []
    loop = asyncio.get_running_loop()
    three = asyncio.Event()

    async def sweep() -> None:
        times.append(loop.time())
        if len(times) == 3:
            three.set()

    scheduler = Scheduler()
    scheduler.every(0.05, "quick", sweep, jitter=0)
    started = loop.time()
    scheduler.start()
    await asyncio.wait_for(three.wait(), 5)
    await scheduler.stop()
    gaps = [b - a for a, b in zip([started, *times], times, strict=False)]
    assert all(gap >= 0.045 for gap in gaps[:3]), gaps


async def test_stop_does_not_wait_for_ever_on_a_run_stuck_in_its_clean_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    ended = asyncio.Event()

    async def stuck() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await release.wait()  # a clean-up that outlasts the shutdown's patience
            ended.set()

    scheduler = Scheduler(sleep=FakeSleep())
    scheduler.every(1.0, "stuck", stuck, immediately=True)
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    with caplog.at_level(logging.WARNING, logger="chatsvg.scheduler"):
        await asyncio.wait_for(scheduler.stop(timeout=0.05), 5)
    assert "periodic:stuck" in caplog.text and not ended.is_set()
    release.set()
    await asyncio.wait_for(ended.wait(), 5)
