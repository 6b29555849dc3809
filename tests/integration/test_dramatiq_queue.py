"""The Dramatiq task queue against the real Redis.

The worker's consumer wakes on a new message instead of polling, and otherwise consumes exactly as
Dramatiq's own consumer does: Dramatiq's Redis consumer sleeps after an empty fetch, 5 ms and
doubling up to the worker's idle timeout, and a message sent meanwhile waited out the sleep.
`WakingRedisBroker`'s consumer blocks in Redis until its queue holds a message (or the timeout
passes) and then runs the stock fetch.

A named task needs only a handler: registered, it gets its actor and queue, is sent from the event
loop and run once by a worker, and runs again after the delay its handler returns.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.errors import ConnectionClosed

from chatsvg.adapters.queue.dramatiq import (
    DramatiqTaskQueue,
    Route,
    declare_actors,
    make_broker,
    route,
)
from chatsvg.application.generation.tasks import GENERATE
from chatsvg.application.ports import TaskPayload
from chatsvg.application.tasks import TaskRegistry, UnknownTask
from chatsvg.entrypoints.worker import TaskRunner
from tests.support.real_stack import REDIS_DB_URL

QUEUE_NAME = route(GENERATE).queue_name


@pytest.fixture
def broker() -> Iterator[Any]:
    broker = make_broker(REDIS_DB_URL, namespace=f"chatsvg-test-{uuid.uuid4().hex[:8]}")
    declare_actors(broker, [GENERATE])
    yield broker
    keys = broker.client.keys(f"{broker.namespace}:*")
    if keys:
        broker.client.delete(*keys)
    broker.client.close()


def send(broker: Any, job_id: str) -> None:
    broker.get_actor(route(GENERATE).actor_name).send(job_id)


def test_an_idle_consumer_takes_a_message_the_moment_it_is_sent(broker: Any) -> None:
    consumer = broker.consume(QUEUE_NAME, prefetch=4, timeout=3_000)
    received: list[tuple[float, str]] = []
    empty_returns = 0

    def consume() -> None:
        nonlocal empty_returns
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            message = next(consumer)
            if message is None:
                empty_returns += 1
                continue
            received.append((time.monotonic(), message.args[0]))
            consumer.ack(message)
            return

    thread = threading.Thread(target=consume)
    thread.start()
    # Long enough for a polling consumer's sleeps to have grown to hundreds of milliseconds.
    time.sleep(1.0)
    sent_at = time.monotonic()
    send(broker, "job-1")
    thread.join(10)

    assert [job for _, job in received] == ["job-1"]
    assert received[0][0] - sent_at < 0.2
    # It waited in Redis the whole second, not in a loop of fetches.
    assert empty_returns == 0


def test_waiting_leaves_the_queue_as_it_was(broker: Any) -> None:
    for n in range(5):
        send(broker, f"job-{n}")
    consumer = broker.consume(QUEUE_NAME, prefetch=2, timeout=200)

    taken = []
    for _ in range(5):
        message = next(consumer)
        assert message is not None
        taken.append(message.args[0])
        consumer.ack(message)
    assert taken == [f"job-{n}" for n in range(5)]
    assert broker.client.llen(f"{broker.namespace}:{QUEUE_NAME}") == 0

    started = time.monotonic()
    assert next(consumer) is None  # nothing more: it gives up after its idle timeout
    assert 0.15 < time.monotonic() - started < 1.0


def test_a_consumer_with_its_prefetch_taken_waits_without_fetching_or_spinning(
    broker: Any,
) -> None:
    send(broker, "job-1")
    send(broker, "job-2")
    consumer = broker.consume(QUEUE_NAME, prefetch=1, timeout=1_000)
    first = next(consumer)
    assert first is not None and first.args[0] == "job-1"

    started = time.monotonic()
    for _ in range(5):
        assert next(consumer) is None  # job-1 is not acknowledged yet
    # Dramatiq's backoff (5, 10, 20, 40, 80 ms, each jittered down to half at the least).
    assert time.monotonic() - started >= 0.07
    assert broker.client.llen(f"{broker.namespace}:{QUEUE_NAME}") == 1

    consumer.ack(first)
    second = next(consumer)
    assert second is not None and second.args[0] == "job-2"


def test_a_lost_redis_is_reported_to_the_worker_as_a_closed_connection() -> None:
    broker = make_broker("redis://127.0.0.1:1/0", namespace="chatsvg-test-unreachable")
    consumer = broker.consume(QUEUE_NAME, prefetch=1, timeout=100)
    with pytest.raises(ConnectionClosed):
        next(consumer)


def test_generate_keeps_the_actor_and_queue_of_the_previous_release() -> None:
    """A rolling deploy: the new worker consumes what the old API sent, and the other way round."""
    assert route(GENERATE) == Route("process_generation_job", "chatsvg-generations")
    assert route("handle_billing_event") == Route(
        "handle_billing_event", "chatsvg-handle-billing-event"
    )


class Recorder:
    """A kind of task the application does not have: its handler is all it needs."""

    def __init__(self, *, retry_first: float | None = None) -> None:
        self.seen: list[Any] = []
        self.retry_first = retry_first
        self.done = threading.Event()

    async def handle(self, payload: TaskPayload) -> float | None:
        self.seen.append(payload)
        if self.retry_first is not None and len(self.seen) == 1:
            return self.retry_first
        self.done.set()
        return None


@pytest.fixture
def worker_for() -> Iterator[Callable[[TaskRegistry], tuple[DramatiqTaskQueue, TaskRunner]]]:
    """A worker as `chatsvg worker` builds one, for the tasks of a registry: one actor per task,
    a Dramatiq worker on the waking broker, the runner's event loop."""
    started: list[tuple[Any, DramatiqTaskQueue, TaskRunner]] = []

    def start(tasks: TaskRegistry) -> tuple[DramatiqTaskQueue, TaskRunner]:
        broker = make_broker(REDIS_DB_URL, namespace=f"chatsvg-test-{uuid.uuid4().hex[:8]}")
        runners: list[TaskRunner] = []
        declare_actors(broker, tasks.names(), lambda task, p: runners[0].submit(task, p))
        queue = DramatiqTaskQueue(REDIS_DB_URL, broker=broker, tasks=tasks.names())
        runners.append(TaskRunner(tasks, queue, limit=4))
        worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
        worker.start()
        started.append((worker, queue, runners[0]))
        return queue, runners[0]

    yield start
    for worker, queue, runner in started:
        worker.stop(timeout=2_000)
        client = queue.broker.client
        keys = client.keys(f"{queue.broker.namespace}:*")
        if keys:
            client.delete(*keys)
        client.close()
        runner.call(queue.aclose())
        runner.stop()


def test_a_registered_task_is_sent_from_the_loop_and_handled_once_by_a_worker(
    worker_for: Callable[[TaskRegistry], tuple[DramatiqTaskQueue, TaskRunner]],
) -> None:
    recorder = Recorder()
    tasks = TaskRegistry()
    tasks.register("record_thing", recorder.handle)
    queue, runner = worker_for(tasks)
    assert route("record_thing").queue_name in queue.broker.get_declared_queues()

    runner.call(queue.enqueue("record_thing", {"thing": 1}))
    assert recorder.done.wait(10)
    # Acknowledged: Redis holds no copy of it any more (queued, delayed or unacknowledged), so
    # no second delivery can come.
    stored = f"{queue.broker.namespace}:{route('record_thing').queue_name}.msgs"
    deadline = time.monotonic() + 5
    while queue.broker.client.hlen(stored) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert queue.broker.client.hlen(stored) == 0
    assert runner.call(queue.depth()) == 0
    assert recorder.seen == [{"thing": 1}]
    with pytest.raises(UnknownTask):
        runner.call(queue.enqueue("record_thin", {"thing": 2}))


def test_a_returned_delay_sends_the_task_again_once_it_is_due(
    worker_for: Callable[[TaskRegistry], tuple[DramatiqTaskQueue, TaskRunner]],
) -> None:
    recorder = Recorder(retry_first=0.2)
    tasks = TaskRegistry()
    tasks.register("record_thing", recorder.handle)
    queue, runner = worker_for(tasks)

    sent_at = time.monotonic()
    runner.call(queue.enqueue("record_thing", "thing-1"))
    assert recorder.done.wait(10)
    assert recorder.seen == ["thing-1", "thing-1"]
    assert time.monotonic() - sent_at >= 0.2


def test_a_delayed_re_run_waits_in_the_process_and_is_handed_over_at_shutdown(
    worker_for: Callable[[TaskRegistry], tuple[DramatiqTaskQueue, TaskRunner]],
) -> None:
    """Dramatiq's delay queue loses the delayed messages a consumer holds when its Redis
    connection drops (they stay unacknowledged until the worker dies), so a delayed re-run waits
    in the sending process instead, and goes to Redis with what is left of its delay only when
    that process stops."""
    tasks = TaskRegistry()
    tasks.register("record_thing", Recorder().handle)
    queue, runner = worker_for(tasks)
    client = queue.broker.client
    # Every message Redis holds for the delay queue, waiting or taken by a consumer.
    delayed_in_redis = f"{queue.broker.namespace}:{route('record_thing').queue_name}.DQ.msgs"
    runner.call(queue.enqueue("record_thing", "later", delay_seconds=30))
    assert queue.delayed == 1 and client.hlen(delayed_in_redis) == 0
    assert runner.call(queue.hand_over_delayed()) == 1
    assert queue.delayed == 0 and client.hlen(delayed_in_redis) == 1
    runner.call(queue.enqueue("record_thing", "after the hand-over", delay_seconds=30))
    assert client.hlen(delayed_in_redis) == 2  # a stopping process keeps nothing back


def test_a_delayed_re_run_that_comes_due_while_redis_is_away_is_sent_when_it_is_back() -> None:
    import asyncio

    from tests.support.tcp_proxy import TcpProxy

    host_port, db = REDIS_DB_URL.removeprefix("redis://").rsplit("/", 1)
    host, port = host_port.split(":")
    with TcpProxy(host, int(port)) as proxy:
        url = f"redis://{proxy.url_host}/{db}"
        broker = make_broker(url, namespace=f"chatsvg-test-{uuid.uuid4().hex[:8]}")
        declare_actors(broker, ["record_thing"])
        queue = DramatiqTaskQueue(url, broker=broker, tasks=["record_thing"])
        queue.redelivery_pauses = (0.2, 0.2, 0.5, 0.5, 1.0, 1.0)
        listed = f"{broker.namespace}:{route('record_thing').queue_name}"
        direct = redis_direct()

        async def run() -> float:
            await queue.enqueue("record_thing", "due during the outage", delay_seconds=0.3)
            proxy.cut()
            await asyncio.sleep(1.0)  # it comes due, and Redis cannot be reached
            proxy.restore()
            back = time.monotonic()
            while not direct.llen(listed):
                await asyncio.sleep(0.05)
                assert time.monotonic() - back < 10, "the delayed re-run was lost"
            return time.monotonic() - back

        try:
            waited = asyncio.run(run())
        finally:
            keys = direct.keys(f"{broker.namespace}:*")
            if keys:
                direct.delete(*keys)
            direct.close()
        assert waited < 5


def redis_direct() -> Any:
    import redis

    return redis.Redis.from_url(REDIS_DB_URL)
