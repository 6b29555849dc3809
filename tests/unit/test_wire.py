"""One serialisation: what a socket is told and what HTTP answers say about the same thing agree."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from chatsvg.application.generation.events import job_update
from chatsvg.application.notifications.events import notification_payload
from chatsvg.application.wire import optional_timestamp, timestamp
from chatsvg.domain.generation.jobs import GenerationJob, JobErrorCode
from chatsvg.domain.generation.requests import ModelSpec
from chatsvg.domain.notifications.notifications import job_succeeded, welcome
from chatsvg.entrypoints.http.generation_schemas import job_json
from chatsvg.entrypoints.http.schemas import notification_json

# Microseconds on purpose: the database keeps them, the wire carries milliseconds.
NOW = datetime(2026, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)


def http(answer: msgspec.Struct) -> Any:
    """An answer as its JSON body reaches the client."""
    return msgspec.json.decode(msgspec.json.encode(answer))


def job() -> GenerationJob:
    return GenerationJob.submit(
        job_id="j1",
        user_id="u1",
        prompt="a fox",
        style="minimal",
        model=ModelSpec("offline", "offline", 1),
        privacy=True,
        now=NOW,
    )


def test_times_are_rfc3339_utc_with_milliseconds() -> None:
    assert timestamp(NOW) == "2026-01-31T12:00:00.123Z"
    assert timestamp(NOW.replace(microsecond=0)) == "2026-01-31T12:00:00.000Z"
    paris = NOW.astimezone(timezone(timedelta(hours=1)))
    assert timestamp(paris) == "2026-01-31T12:00:00.123Z"
    assert optional_timestamp(None) is None


def test_a_new_notification_reads_the_same_on_the_socket_and_over_http() -> None:
    note = job_succeeded(job(), "g1", notification_id="n1", now=NOW)
    pushed = msgspec.json.decode(msgspec.json.encode(notification_payload(note)))
    assert pushed == http(notification_json(note, None))
    assert pushed["createdAt"] == "2026-01-31T12:00:00.123Z"
    assert pushed["readAt"] is None
    assert pushed["type"] == "JOB_SUCCEEDED"


def test_a_seen_notification_reads_as_read_on_both_channels() -> None:
    note = welcome(notification_id="n1", user_id="u1", start_credits=10, now=NOW)
    seen = NOW + timedelta(seconds=1)
    assert notification_payload(note, seen) == http(notification_json(note, seen))
    assert notification_payload(note, seen)["readAt"] == "2026-01-31T12:00:01.123Z"


def running() -> GenerationJob:
    j = job()
    j.claim(NOW, NOW + timedelta(seconds=60))
    j.advance(70, NOW)
    return j


def succeeded() -> GenerationJob:
    j = running()
    j.succeed("g1", NOW)
    return j


def failed() -> GenerationJob:
    j = running()
    j.fail(JobErrorCode.PROVIDER_REFUSED, NOW)
    return j


def requeued() -> GenerationJob:
    j = running()
    j.requeue(JobErrorCode.PROVIDER_RATE_LIMITED, NOW)
    return j


@pytest.mark.parametrize("make", [job, running, succeeded, failed, requeued])
def test_a_job_update_carries_the_values_of_the_jobs_http_answer(make: Any) -> None:
    j = make()
    update = msgspec.json.decode(msgspec.json.encode(job_update(j)))
    answer = http(job_json(j))
    assert update["jobId"] == answer["id"]
    for field in ("status", "progress", "generationId", "errorCode", "errorMessage"):
        # The update leaves out what the answer has as null.
        assert update.get(field) == answer[field], field
    assert set(update) - set(answer) <= {"jobId", "seq"}
