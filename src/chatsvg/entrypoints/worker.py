"""`chatsvg worker`: Dramatiq consumes the task queues; one event loop runs thousands of tasks at once.

A Dramatiq worker thread would otherwise be tied up for the whole model call (seconds), capping a
process at one job per thread. Here each actor (one per worker task, entrypoints/tasks.py) only
hands its task to the event loop and returns: a few threads keep the loop fed, and `max_in_flight`
(a semaphore the actors wait on) is the back-pressure that stops Dramatiq from fetching more than
the process can hold.

The message is acknowledged once the task is handed over, not when it finishes. That is safe
because the database, not the message, is the record of work: a job whose worker dies is RUNNING
with a lease, or still QUEUED, and the reaper hands it back either way (docs/reliability.md).
The periodic sweeps (the reaper, the metrics figures, the liveness heartbeat) run on the same loop,
through entrypoints/scheduler.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import dramatiq
import uvloop
from dependency_injector import providers
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.multiprocess import MultiProcessCollector

from chatsvg.adapters.queue.dramatiq import DramatiqTaskQueue, declare_actors, make_broker
from chatsvg.application.ports import TaskPayload, TaskQueue
from chatsvg.application.tasks import TaskRegistry
from chatsvg.entrypoints.containers import Container, create_container
from chatsvg.entrypoints.containers.infrastructure import carry_realtime_pushes
from chatsvg.entrypoints.logs import bind_log_context, configure_logging
from chatsvg.entrypoints.observability import (
    REGISTRY,
    ClusterFigures,
    ClusterSnapshot,
    MetricsServer,
    prepare_multiprocess_dir,
    process_exited,
    remove_multiprocess_dir,
)
from chatsvg.entrypoints.scheduler import Scheduler
from chatsvg.entrypoints.server import freeze_startup_objects
from chatsvg.entrypoints.settings import Settings
from chatsvg.entrypoints.tasks import (
    WORKER_TASKS,
    register_worker_tasks,
    schedule_figures,
    schedule_worker_sweeps,
)

log = logging.getLogger("chatsvg.worker")

IN_FLIGHT = Gauge(
    "chatsvg_worker_jobs_in_flight",
    "Job attempts running in this worker process (in the pod's live processes, summed)",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
HEARTBEAT = Gauge(
    "chatsvg_worker_heartbeat_timestamp_seconds",
    "When this process's job loop last ticked with its Dramatiq threads alive (Unix time)",
    multiprocess_mode="liveall",  # one series per live process (label pid)
    registry=REGISTRY,
)
DELAYED = Gauge(
    "chatsvg_worker_delayed_reruns",
    "Delayed re-runs (retries after a fault, jobs held by the open circuit) waiting in this "
    "worker process until due (in the pod's live processes, summed)",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)


class TaskRunner:
    """Runs named tasks on one event loop thread, at most `limit` at a time."""

    def __init__(self, registry: TaskRegistry, queue: TaskQueue, *, limit: int) -> None:
        self._registry = registry
        self._queue = queue
        self._slots = threading.BoundedSemaphore(limit)
        self._futures: set[concurrent.futures.Future[None]] = set()
        self._lock = threading.Lock()
        self.loop = uvloop.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="chatsvg-jobs", daemon=True
        )
        self._thread.start()

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._futures)

    def submit(self, task: str, payload: TaskPayload) -> None:
        """Called on a Dramatiq thread: wait for a free slot, start the task, return."""
        self._slots.acquire()
        future = asyncio.run_coroutine_threadsafe(self._run(task, payload), self.loop)
        with self._lock:
            self._futures.add(future)
            IN_FLIGHT.set(len(self._futures))
        future.add_done_callback(self._done)

    def _done(self, future: concurrent.futures.Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)
            IN_FLIGHT.set(len(self._futures))
        self._slots.release()

    async def _run(self, task: str, payload: TaskPayload) -> None:
        bind_log_context(**self._registry.log_context(task, payload))
        try:
            await self._registry.run(task, payload, requeue=self._queue)
        except Exception:
            # The database still holds the work: a job's lease (or its QUEUED age) brings it back
            # through the reaper.
            log.exception("task crashed outside its handler")

    def drain(self, timeout: float) -> int:
        """Wait up to `timeout` for running attempts; returns how many were still running."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.in_flight

    def call(self, coro: Any, timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


def build_worker(
    settings: Settings, *, threads: int
) -> tuple[dramatiq.Worker, Container, TaskRunner]:
    if not settings.redis_url:
        raise SystemExit(
            "chatsvg worker needs REDIS_URL (in local mode the API runs the worker in-process)"
        )
    broker = make_broker(settings.redis_url)
    container = create_container(settings, worker_process=True)
    runner: TaskRunner | None = None

    def hand_over(task: str, payload: TaskPayload) -> None:
        assert runner is not None, "Dramatiq runs no actor before worker.start()"
        runner.submit(task, payload)

    # One actor per worker task, each handing its task to the runner; the queue sends through
    # the same actors (the tasks' handlers, and delayed re-runs).
    names = list(WORKER_TASKS)
    declare_actors(broker, names, hand_over)
    queue = DramatiqTaskQueue(settings.redis_url, broker=broker, tasks=names)
    carry_realtime_pushes(queue, container.infrastructure.realtime())
    container.infrastructure.queue.override(providers.Object(queue))
    registry = TaskRegistry()
    register_worker_tasks(registry, container)
    runner = TaskRunner(registry, queue, limit=settings.worker_max_in_flight)
    dramatiq.set_broker(broker)
    # The consumers wake on a new message (WakingRedisBroker); the timeout bounds each wait, so
    # stopping and delayed retries that come due are noticed within 100 ms.
    return dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100), container, runner


async def _warm_up(container: Container) -> None:
    """Build what a job needs before taking any: the model and storage clients (importing the
    OpenAI client alone takes most of a second of the loop) and the database pool's connections.
    Done lazily, this landed on the first burst of jobs."""
    container.generation.processor()
    container.generation.reaper()
    database = container.infrastructure.database()
    await database.warm(container.settings().db_warm_connections)


def run_worker(settings: Settings, *, processes: int = 1, threads: int = 0) -> int:
    if processes > 1:
        return _run_many(settings, processes, threads)
    configure_logging(settings)
    threads = threads or settings.worker_threads
    worker, container, runner = build_worker(settings, threads=threads)
    queue = container.infrastructure.queue()
    heartbeat = JobLoopHeartbeat(
        settings.worker_liveness_seconds, delayed=lambda: int(getattr(queue, "delayed", 0))
    )
    liveness = Scheduler()
    liveness.every(heartbeat.period, "heartbeat", heartbeat.beat, jitter=0, immediately=True)
    runner.loop.call_soon_threadsafe(liveness.start)
    figures = container.figures()
    sweeps = Scheduler()
    schedule_figures(sweeps, container)
    schedule_worker_sweeps(sweeps, container)
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("shutting down", extra={"signal": signum})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    metrics = _serve_metrics(settings.metrics_port, figures.latest_sync, heartbeat.problem)
    try:
        runner.call(_warm_up(container), timeout=60)
    except Exception:
        log.warning("warm-up incomplete; the first jobs will finish it", exc_info=True)
    freeze_startup_objects()
    worker.start()
    heartbeat.worker = worker
    runner.loop.call_soon_threadsafe(sweeps.start)
    log.info(
        "worker ready", extra={"threads": threads, "max_in_flight": settings.worker_max_in_flight}
    )
    print("worker ready", flush=True)
    stop.wait()
    runner.call(sweeps.stop())
    queue = container.infrastructure.queue()
    heartbeat.stopping = True  # Dramatiq's threads end now; the loop still has to tick
    worker.stop(timeout=5_000)  # stop taking messages; handing over is instant
    # Running tasks get a grace period; a job that does not finish keeps its lease and is handed
    # back.
    left = runner.drain(settings.shutdown_grace_seconds)
    if left:
        log.warning(
            "stopping with tasks still running; the database hands their work back",
            extra={"count": left},
        )
    if isinstance(queue, DramatiqTaskQueue):
        try:  # delayed re-runs waiting in this process go to Redis with their remaining delay
            handed = runner.call(queue.hand_over_delayed(), timeout=10)
            log.info("delayed re-runs handed over", extra={"count": handed})
        except Exception:
            log.warning("delayed re-runs not handed over; the sweep sends them", exc_info=True)
    try:
        runner.call(container.infrastructure.database().dispose(), timeout=5)
        runner.call(figures.close(), timeout=5)
    except Exception:
        log.warning("database pool did not close cleanly", exc_info=True)
    runner.call(liveness.stop())
    if metrics is not None:
        metrics.close()
    runner.stop()
    return 0


def _run_many(settings: Settings, processes: int, threads: int) -> int:
    """`--processes N`: N worker processes, and this one serving the pod's metrics port for all
    of them (prometheus-client's multiprocess mode) with a /health/live that fails when any of
    them exited or its job loop stopped ticking."""
    configure_logging(settings)
    metrics_dir = prepare_multiprocess_dir()
    env = {**os.environ, "CHATSVG_METRICS_PORT": "0"}  # the port is this process's
    children = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "chatsvg.entrypoints.cli", "worker", "--threads", str(threads)],
            env=env,
        )
        for _ in range(processes)
    ]
    figures = ClusterFigures(
        redis_url=settings.redis_url, interval=settings.metrics_interval_seconds
    )

    def problem() -> str | None:
        return children_problem(children, metrics_dir, settings.worker_liveness_seconds)

    metrics = _serve_metrics(settings.metrics_port, figures.latest_sync, problem)
    stopping = False

    def forward(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes: dict[int, int] = {}
    try:
        while len(codes) < len(children):
            for child in children:
                code = child.poll()
                if code is None or child.pid in codes:
                    continue
                codes[child.pid] = code
                process_exited(child.pid)
                if not stopping:
                    # The others keep their jobs; /health/live now fails, so the pod is restarted.
                    log.error("worker process exited", extra={"pid": child.pid, "code": code})
            time.sleep(0.2)
    finally:
        if metrics is not None:
            metrics.close()
        remove_multiprocess_dir(metrics_dir)
    return max(codes.values())


class JobLoopHeartbeat:
    """Proves a worker process alive for its liveness probe: a sweep on the job loop records the
    time every `period` seconds while Dramatiq's threads (once started) all live. A loop blocked
    by a synchronous call, or starved, stops recording; `problem()` then says so."""

    def __init__(
        self, max_age: float, *, period: float = 1.0, delayed: Callable[[], int] | None = None
    ) -> None:
        self.max_age = max_age
        self.period = period
        self.delayed = delayed  # how many delayed re-runs wait in this process (a gauge)
        self.last: float | None = None
        self.worker: dramatiq.Worker | None = None  # set once Dramatiq's threads are started
        self.stopping = False  # shutting down: Dramatiq's threads end on purpose

    def dead_threads(self) -> list[str]:
        worker = self.worker
        if worker is None or self.stopping:
            return []
        threads: list[threading.Thread] = [*list(worker.consumers.values()), *worker.workers]
        return [thread.name for thread in threads if not thread.is_alive()]

    async def beat(self) -> None:
        """Run every `period` on the job loop (a `Scheduler` sweep)."""
        if not self.dead_threads():
            self.last = time.time()
            HEARTBEAT.set(self.last)
        if self.delayed is not None:
            DELAYED.set(self.delayed())

    def problem(self) -> str | None:
        """None when alive, else why not (what /health/live answers with its 503)."""
        dead = self.dead_threads()
        if dead:
            return "Dramatiq threads died: " + ", ".join(dead)
        if self.last is None:
            return "the job loop has not started"
        age = time.time() - self.last
        if age > self.max_age:
            return f"the job loop has not ticked for {age:.1f} s"
        return None


def child_heartbeats(metrics_dir: str) -> dict[int, float]:
    """Each live process's last heartbeat, from the pod's multiprocess metrics files."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=metrics_dir)  # type: ignore[no-untyped-call]
    for metric in registry.collect():
        if metric.name == "chatsvg_worker_heartbeat_timestamp_seconds":
            return {int(s.labels["pid"]): s.value for s in metric.samples if s.value > 0}
    return {}


def children_problem(
    children: list[subprocess.Popen[bytes]], metrics_dir: str, max_age: float
) -> str | None:
    exited = [str(child.pid) for child in children if child.poll() is not None]
    if exited:
        return "worker processes exited: " + ", ".join(exited)
    beats = child_heartbeats(metrics_dir)
    now = time.time()
    for child in children:
        beat = beats.get(child.pid)
        if beat is None:
            return f"process {child.pid} has not started its job loop"
        if now - beat > max_age:
            return f"process {child.pid}: the job loop has not ticked for {now - beat:.1f} s"
    return None


def _serve_metrics(
    port: int,
    figures: Callable[[], ClusterSnapshot | None],
    problem: Callable[[], str | None],
) -> MetricsServer | None:
    if not port:
        return None
    try:
        return MetricsServer(port, figures=figures, live=problem)
    except OSError:
        log.warning(
            "metrics port busy; this worker exposes no metrics and no liveness",
            extra={"port": port},
        )
        return None
