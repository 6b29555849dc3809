"""`chatsvg worker`: Dramatiq worker threads feeding the async JobProcessor on one event loop, plus the reaper."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
import threading
from typing import Any

import dramatiq
import structlog
from dependency_injector import providers
from dramatiq.asyncio import get_event_loop_thread
from prometheus_client import start_http_server

from chatsvg.adapters.dramatiq_queue import DramatiqJobQueue, declare_actor, make_broker
from chatsvg.entrypoints.containers import Container, create_container
from chatsvg.entrypoints.logs import configure_logging
from chatsvg.entrypoints.observability import REGISTRY
from chatsvg.entrypoints.settings import Settings

log = logging.getLogger("chatsvg.worker")


def build_worker(
    settings: Settings, *, threads: int
) -> tuple[dramatiq.Worker, Container, DramatiqJobQueue]:
    if not settings.redis_url:
        raise SystemExit(
            "chatsvg worker needs REDIS_URL (in local mode the API runs the worker in-process)"
        )
    broker = make_broker(settings.redis_url, time_limit_seconds=settings.lease_seconds * 4)
    queue = DramatiqJobQueue(settings.redis_url, broker=broker)
    container = create_container(settings, worker_process=True)
    container.queue.override(providers.Object(queue))

    async def handle(job_id: str) -> None:
        structlog.contextvars.bind_contextvars(job_id=job_id)
        try:
            delay = await container.processor().process(job_id)
            if delay is not None:
                await queue.enqueue(job_id, delay_seconds=delay)
        finally:
            structlog.contextvars.unbind_contextvars("job_id")

    broker.actors.pop("process_generation_job", None)
    declare_actor(broker, handle)
    dramatiq.set_broker(broker)
    return dramatiq.Worker(broker, worker_threads=threads), container, queue


async def _reap_forever(container: Container, interval: float, stop: threading.Event) -> None:
    reaper = container.reaper()
    while not stop.is_set():
        await asyncio.sleep(interval)
        try:
            handed_back = await reaper.sweep()
            if handed_back:
                log.info("reaper handed back jobs", extra={"count": handed_back})
        except Exception:
            log.exception("reaper sweep failed")


def run_worker(settings: Settings, *, processes: int = 1, threads: int = 0) -> int:
    if processes > 1:
        return _run_many(processes, threads)
    configure_logging(settings)
    threads = threads or settings.worker_concurrency
    worker, container, _queue = build_worker(settings, threads=threads)
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("shutting down", extra={"signal": signum})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if settings.metrics_port:
        try:
            start_http_server(settings.metrics_port, registry=REGISTRY)
        except OSError:
            log.warning(
                "metrics port busy; this worker exposes no metrics",
                extra={"port": settings.metrics_port},
            )
    worker.start()
    loop_thread = get_event_loop_thread()
    assert loop_thread is not None, "the AsyncIO middleware starts the event loop thread"
    reaper = asyncio.run_coroutine_threadsafe(
        _reap_forever(container, settings.reaper_interval_seconds, stop), loop_thread.loop
    )
    log.info("worker ready", extra={"threads": threads})
    print("worker ready", flush=True)
    stop.wait()
    reaper.cancel()
    # In-flight jobs get time to finish; what does not is handed back by the lease + reaper.
    worker.stop(timeout=int(settings.lease_seconds * 1000 // 4))

    # Pooled connections close with the process; the event loop is already stopped here.
    return 0


def _run_many(processes: int, threads: int) -> int:
    children = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "chatsvg.entrypoints.cli", "worker", "--threads", str(threads)]
        )
        for _ in range(processes)
    ]

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return max(child.wait() for child in children)
