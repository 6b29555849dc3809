"""Named tasks on the in-process queue: a new kind of task is one handler in a registry.

(tests/integration/test_dramatiq_queue.py runs a registered task through Dramatiq and Redis.)
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from chatsvg.adapters.queue.inprocess import InProcessTaskQueue
from chatsvg.application.ports import TaskPayload
from chatsvg.application.tasks import TaskRegistry, UnknownTask
from tests.support.fakes import RecordingQueue


class Greeter:
    """A kind of task the application does not have: its handler is all it needs."""

    def __init__(self, *, retry_first: float | None = None) -> None:
        self.seen: list[TaskPayload] = []
        self.retry_first = retry_first
        self.done = asyncio.Event()

    async def handle(self, payload: TaskPayload) -> float | None:
        self.seen.append(payload)
        if self.retry_first is not None and len(self.seen) == 1:
            return self.retry_first
        self.done.set()
        return None


async def test_a_registered_task_is_handled_once_with_its_payload() -> None:
    greeter = Greeter()
    tasks = TaskRegistry()
    tasks.register("greet", greeter.handle)
    queue = InProcessTaskQueue(concurrency=2)
    queue.start(tasks)
    try:
        await queue.enqueue("greet", {"name": "Ada"})
        await asyncio.wait_for(greeter.done.wait(), 5)
        await queue.join()
    finally:
        await queue.stop()
    assert greeter.seen == [{"name": "Ada"}]


async def test_a_task_enqueued_before_start_waits_for_it() -> None:
    greeter = Greeter()
    tasks = TaskRegistry()
    tasks.register("greet", greeter.handle)
    queue = InProcessTaskQueue(concurrency=1)
    await queue.enqueue("greet", "early")
    assert queue.depth == 1
    queue.start(tasks)
    try:
        await asyncio.wait_for(greeter.done.wait(), 5)
    finally:
        await queue.stop()
    assert greeter.seen == ["early"]


async def test_a_returned_delay_runs_the_task_again_after_it() -> None:
    greeter = Greeter(retry_first=0.01)
    tasks = TaskRegistry()
    tasks.register("greet", greeter.handle)
    queue = InProcessTaskQueue(concurrency=1)
    queue.start(tasks)
    try:
        await queue.enqueue("greet", "again")
        await asyncio.wait_for(greeter.done.wait(), 5)
        await queue.join()
    finally:
        await queue.stop()
    assert greeter.seen == ["again", "again"]


async def test_the_registry_enqueues_a_returned_delay_on_the_queue_it_is_given() -> None:
    greeter = Greeter(retry_first=2.5)
    tasks = TaskRegistry()
    tasks.register("greet", greeter.handle)
    recorded = RecordingQueue()
    await tasks.run("greet", "job-1", requeue=recorded)
    assert recorded.sent == [("greet", "job-1", 2.5)]
    await tasks.run("greet", "job-1", requeue=recorded)
    assert recorded.sent == [("greet", "job-1", 2.5)], "None: done, nothing enqueued"


async def test_an_unknown_task_is_refused_and_a_name_is_registered_once() -> None:
    tasks = TaskRegistry()
    tasks.register("greet", Greeter().handle, log_key="greeting_id")
    with pytest.raises(ValueError):
        tasks.register("greet", Greeter().handle)
    with pytest.raises(UnknownTask):
        await tasks.run("gret", "x", requeue=RecordingQueue())
    queue = InProcessTaskQueue(concurrency=1)
    queue.start(tasks)
    try:
        with pytest.raises(UnknownTask):
            await queue.enqueue("gret", "x")
    finally:
        await queue.stop()
    assert tasks.names() == ["greet"] and "greet" in tasks
    assert tasks.log_context("greet", "g-1") == {"task": "greet", "greeting_id": "g-1"}
    assert tasks.log_context("greet", {"a": 1}) == {"task": "greet"}


async def test_a_crashing_handler_is_logged_and_the_queue_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    greeter = Greeter()

    async def crash(payload: TaskPayload) -> float | None:
        raise RuntimeError(f"cannot handle {payload}")

    tasks = TaskRegistry()
    tasks.register("crash", crash, log_key="thing_id")
    tasks.register("greet", greeter.handle)
    queue = InProcessTaskQueue(concurrency=1)
    queue.start(tasks)
    try:
        with caplog.at_level(logging.ERROR):
            await queue.enqueue("crash", "t-1")
            await queue.enqueue("greet", "after")
            await asyncio.wait_for(greeter.done.wait(), 5)
    finally:
        await queue.stop()
    [crashed] = [r for r in caplog.records if r.getMessage() == "task crashed"]
    assert crashed.__dict__["thing_id"] == "t-1" and crashed.__dict__["task"] == "crash"
    assert greeter.seen == ["after"]
