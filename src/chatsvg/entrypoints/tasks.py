"""Which process runs which named task and which periodic sweep.

Worker tasks (`WORKER_TASKS`) are run by `chatsvg worker`, off Dramatiq, in production, and by the
API's in-process queue in local mode; the API only sends them. `send_mail` is an API task: every
API process delivers the mail it recorded (the worker sends none and has no mail settings), on its
own in-process queue (`local_tasks` in the container), in every mode, with the outbox's sweep.

A new kind of task is a handler in its feature's application package, with its name beside it
(like `application/generation/tasks.py`), and one line here. The Dramatiq actor, its queue
(`chatsvg-<name>`), the worker's consumer and the in-process queue follow from that line. The
billing provider's webhook events are one such task, in `WORKER_TASKS`:

    HANDLE_BILLING_EVENT: TaskSpec(lambda c: c.billing.events().task, log_key="event_id"),

the webhook's controller records the event, then enqueues `HANDLE_BILLING_EVENT` with its id, as
submission does with `GENERATE`; a sweep of unhandled events covers a lost one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatsvg.adapters.queue.inprocess import InProcessTaskQueue
from chatsvg.application.billing.events import HANDLE_BILLING_EVENT
from chatsvg.application.generation.tasks import GENERATE, generate_task
from chatsvg.application.mail.outbox import SEND_MAIL
from chatsvg.application.tasks import TaskHandler, TaskRegistry
from chatsvg.entrypoints.scheduler import Scheduler, Sweep

if TYPE_CHECKING:
    from chatsvg.entrypoints.containers import Container

log = logging.getLogger("chatsvg.tasks")


@dataclass(frozen=True)
class TaskSpec:
    build: Callable[[Container], TaskHandler]  # called in the process that runs the task
    log_key: str | None = None  # a string payload appears in the task's log lines under this key


WORKER_TASKS: dict[str, TaskSpec] = {
    GENERATE: TaskSpec(lambda c: generate_task(c.generation.processor()), log_key="job_id"),
    HANDLE_BILLING_EVENT: TaskSpec(lambda c: c.billing.events().task, log_key="event_id"),
}


def register_worker_tasks(registry: TaskRegistry, container: Container) -> None:
    for name, spec in WORKER_TASKS.items():
        registry.register(name, spec.build(container), log_key=spec.log_key)


def reaper_sweep(container: Container) -> Sweep:
    reaper = container.generation.reaper()

    async def reap() -> None:
        handed_back = await reaper.sweep()
        if handed_back:
            log.info("reaper handed back jobs", extra={"count": handed_back})

    return reap


def schedule_worker_sweeps(scheduler: Scheduler, container: Container) -> None:
    """The sweeps of a process that runs the worker tasks: the reaper."""
    interval = container.settings().reaper_interval_seconds
    scheduler.every(interval, "reaper", reaper_sweep(container))
    # Expired OAuth codes and tokens (MCP clients), and grants that ended a week ago.
    scheduler.every(3600.0, "oauth-purge", container.authorization.server().purge)
    if container.billing.enabled():
        # Pending webhook events back to the queue; subscriptions re-read (a missed event).
        billing = container.billing.sweep()
        every = container.settings().billing_sweep_interval_seconds
        scheduler.every(every, "billing", billing.sweep, immediately=True)


def schedule_figures(scheduler: Scheduler, container: Container) -> None:
    """The database-wide metrics figures, in every process (one computes them per interval)."""
    figures = container.figures()
    infra = container.infrastructure
    refresh = functools.partial(figures.refresh, infra.database(), infra.queue())
    scheduler.every(figures.interval, "metrics-figures", refresh, immediately=True)


@dataclass
class ApiTasks:
    """What an API process runs besides requests: its in-process queue and its sweeps."""

    queue: InProcessTaskQueue
    scheduler: Scheduler

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.queue.stop()


def start_api_tasks(container: Container) -> ApiTasks:
    """On the API's event loop: `send_mail` and the outbox sweep (unless mail is off), the worker
    tasks and the reaper when this process is its own worker (local mode), and the figures."""
    settings = container.settings()
    infra = container.infrastructure
    local: InProcessTaskQueue = infra.local_tasks()
    registry = TaskRegistry()
    scheduler = Scheduler()
    if container.mail.delivers():
        outbox = container.mail.outbox()
        registry.register(SEND_MAIL, outbox.send_task, log_key="mail_id")
        poll = container.accounts_settings().mail_poll_seconds
        scheduler.every(poll, "mail-outbox", outbox.sweep, immediately=True)
    if settings.runs_embedded_worker and local is infra.queue():
        register_worker_tasks(registry, container)
        schedule_worker_sweeps(scheduler, container)
    local.start(registry)
    schedule_figures(scheduler, container)
    scheduler.start()
    return ApiTasks(local, scheduler)
