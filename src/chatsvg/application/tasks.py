"""Named tasks: the registry of handlers every task queue runs, and the one place that runs them.

A task is a name and a payload (ports.TaskPayload). A handler is an async function of the payload
that returns None when it is done, or a number of seconds after which the same task must run again
(a transient provider fault, a full batch of mail). `TaskRegistry.run` is the only code that acts
on that answer, for every queue: the in-process one (adapters/queue/inprocess.py), the Dramatiq
worker (entrypoints/worker.py) and the tests' recording queue.

A new kind of task is a handler in its feature's application package (a name constant beside it)
and one line where the process that runs it registers it (entrypoints/tasks.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from chatsvg.application.ports import TaskPayload, TaskQueue

TaskHandler = Callable[[TaskPayload], Awaitable[float | None]]


class UnknownTask(LookupError):
    """No handler (or, on a broker, no route) for this task name."""

    def __init__(self, task: str) -> None:
        super().__init__(f"no task named {task!r}")
        self.task = task


@dataclass(frozen=True)
class RegisteredTask:
    handler: TaskHandler
    # A string payload is logged under this key while the task runs (e.g. "job_id").
    log_key: str | None = None


class TaskRegistry:
    """Task name -> handler. Registering a name twice is a wiring error, and refused."""

    def __init__(self) -> None:
        self._tasks: dict[str, RegisteredTask] = {}

    def register(self, name: str, handler: TaskHandler, *, log_key: str | None = None) -> None:
        if name in self._tasks:
            raise ValueError(f"task {name!r} is registered already")
        self._tasks[name] = RegisteredTask(handler, log_key)

    def __contains__(self, name: object) -> bool:
        return name in self._tasks

    def __iter__(self) -> Iterator[str]:
        return iter(self._tasks)

    def names(self) -> list[str]:
        return list(self._tasks)

    def log_context(self, name: str, payload: TaskPayload) -> dict[str, str]:
        """What to bind to the log lines of one run: the task's name, and its id-like payload."""
        context = {"task": name}
        entry = self._tasks.get(name)
        if entry is not None and entry.log_key and isinstance(payload, str):
            context[entry.log_key] = payload
        return context

    async def run(self, name: str, payload: TaskPayload, *, requeue: TaskQueue) -> None:
        """Run one task. If its handler asks for another run, enqueue it on `requeue` after the
        delay it returned. Raises what the handler raised (the caller logs it: the database still
        holds the work, and its sweep hands it back)."""
        entry = self._tasks.get(name)
        if entry is None:
            raise UnknownTask(name)
        delay = await entry.handler(payload)
        if delay is not None:
            await requeue.enqueue(name, payload, delay_seconds=delay)
