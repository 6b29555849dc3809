"""What each notification says is decided by the domain, from the facts it is about."""

from datetime import UTC, datetime, timedelta

from chatsvg.domain.generation.jobs import GenerationJob, JobErrorCode
from chatsvg.domain.generation.requests import ModelSpec
from chatsvg.domain.notifications.notifications import (
    Notification,
    NotificationType,
    job_failed,
    job_succeeded,
    low_credits,
    welcome,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def job(prompt: str = "a fox") -> GenerationJob:
    j = GenerationJob.submit(
        job_id="j1",
        user_id="u1",
        prompt=prompt,
        style="minimal",
        model=ModelSpec("offline", "offline", 1),
        privacy=True,
        now=NOW,
    )
    j.claim(NOW, NOW + timedelta(seconds=60))
    return j


def test_welcome_names_the_starting_credits() -> None:
    note = welcome(notification_id="n", user_id="u1", start_credits=10, now=NOW)
    assert (note.type, note.title, note.job_id) == (
        NotificationType.WELCOME,
        "Welcome to ChatSVG",
        None,
    )
    assert note.message == "You have 10 free credits to start creating SVGs."


def test_a_success_quotes_the_prompt_shortened_and_links_the_generation() -> None:
    note = job_succeeded(job("x" * 100), "g1", notification_id="n", now=NOW)
    assert (note.type, note.user_id, note.job_id) == (NotificationType.JOB_SUCCEEDED, "u1", "j1")
    assert note.message == "x" * 79 + "…"
    assert note.data == {"jobId": "j1", "generationId": "g1"}
    assert job_succeeded(job("a fox"), "g1", notification_id="n", now=NOW).message == "a fox"


def test_a_failure_tells_the_jobs_own_error() -> None:
    j = job()
    j.fail(JobErrorCode.PROVIDER_REFUSED, NOW)
    note = job_failed(j, notification_id="n", now=NOW)
    assert note.type == NotificationType.JOB_FAILED
    assert note.message == "The model declined this prompt. Try rephrasing it."
    assert note.data == {"jobId": "j1", "errorCode": "PROVIDER_REFUSED"}


def test_low_credits_warns_only_at_or_below_the_threshold() -> None:
    assert low_credits(job(), balance=3, threshold=2, notification_id="n", now=NOW) is None
    note = low_credits(job(), balance=2, threshold=2, notification_id="n", now=NOW)
    assert note is not None
    assert (note.type, note.message, note.data) == (
        NotificationType.LOW_CREDITS,
        "You have 2 credit(s) left.",
        {"balance": 2},
    )


def test_a_notification_counts_as_read_once_the_bell_was_seen_after_it() -> None:
    note = Notification("n", "u1", NotificationType.WELCOME, "t", "m", created_at=NOW)
    assert note.read_as_of(None) is None
    assert note.read_as_of(NOW - timedelta(seconds=1)) is None
    assert note.read_as_of(NOW) == NOW
    read = Notification("n", "u1", "WELCOME", "t", "m", created_at=NOW, read_at=NOW)
    assert read.read_as_of(NOW + timedelta(days=1)) == NOW
