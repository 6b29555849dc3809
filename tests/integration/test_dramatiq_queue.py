"""The worker's Dramatiq consumer against the real Redis: it wakes on a new message instead of
polling, and otherwise consumes exactly as Dramatiq's own consumer does.

Dramatiq's Redis consumer sleeps after an empty fetch, 5 ms and doubling up to the worker's idle
timeout; a message sent meanwhile waited out the sleep. `WakingRedisBroker`'s consumer blocks in
Redis until its queue holds a message (or the timeout passes) and then runs the stock fetch.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from dramatiq.errors import ConnectionClosed

from chatsvg.adapters.queue.dramatiq import QUEUE_NAME, declare_actor, make_broker
from tests.support.real_stack import REDIS_DB_URL


@pytest.fixture
def broker() -> Iterator[Any]:
    broker = make_broker(REDIS_DB_URL, namespace=f"chatsvg-test-{uuid.uuid4().hex[:8]}")
    declare_actor(broker)
    yield broker
    keys = broker.client.keys(f"{broker.namespace}:*")
    if keys:
        broker.client.delete(*keys)
    broker.client.close()


def send(broker: Any, job_id: str) -> None:
    broker.get_actor("process_generation_job").send(job_id)


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
