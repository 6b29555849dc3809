from datetime import UTC, datetime, timedelta

import pytest

from chatsvg.domain.credits.ledger import LedgerReason
from chatsvg.domain.errors import (
    IllegalTransition,
    InsufficientCredits,
    JobNotCancellable,
    ValidationFailed,
)
from chatsvg.domain.generation.jobs import GenerationJob, JobErrorCode, JobStatus
from chatsvg.domain.generation.requests import (
    Catalogue,
    ModelSpec,
    check_idempotency_key,
    normalise_prompt,
    request_fingerprint,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
MODEL = ModelSpec("offline", "offline", 1)


def job() -> GenerationJob:
    return GenerationJob.submit(
        job_id="j1",
        user_id="u1",
        prompt="a fox",
        style="minimal",
        model=MODEL,
        privacy=True,
        now=NOW,
    )


def test_a_new_job_is_queued_and_uncharged() -> None:
    j = job()
    assert (j.status, j.attempts, j.charged, j.progress) == (JobStatus.QUEUED, 0, False, 0)


def test_happy_path_claim_charge_succeed() -> None:
    j = job()
    j.claim(NOW, NOW + timedelta(seconds=60))
    j.mark_charged()
    assert j.status is JobStatus.RUNNING and j.attempts == 1
    j.advance(70, NOW)
    j.succeed("g1", NOW)
    assert (j.status, j.progress, j.generation_id, j.finished_at) == (
        JobStatus.SUCCEEDED,
        100,
        "g1",
        NOW,
    )


def test_a_job_is_charged_at_most_once() -> None:
    j = job()
    j.claim(NOW, NOW + timedelta(seconds=60))
    j.mark_charged()
    with pytest.raises(IllegalTransition):
        j.mark_charged()


def test_refund_is_owed_once_and_only_after_a_charge() -> None:
    unpaid = job()
    unpaid.claim(NOW, NOW + timedelta(seconds=60))
    assert unpaid.fail(JobErrorCode.PROVIDER_REFUSED, NOW) is False
    with pytest.raises(IllegalTransition):
        unpaid.mark_refunded()

    paid = job()
    paid.claim(NOW, NOW + timedelta(seconds=60))
    paid.mark_charged()
    assert paid.fail(JobErrorCode.PROVIDER_REFUSED, NOW) is True
    paid.mark_refunded()
    with pytest.raises(IllegalTransition):
        paid.mark_refunded()


def test_terminal_states_refuse_every_transition() -> None:
    j = job()
    j.claim(NOW, NOW + timedelta(seconds=60))
    j.succeed("g1", NOW)
    for action in (
        lambda: j.claim(NOW, NOW),
        lambda: j.succeed("g2", NOW),
        lambda: j.fail("X", NOW),
        lambda: j.requeue("X", NOW),
        lambda: j.advance(50, NOW),
    ):
        with pytest.raises(IllegalTransition):
            action()


def test_a_running_job_is_reclaimable_only_after_its_lease() -> None:
    j = job()
    assert j.claimable(NOW)
    j.claim(NOW, NOW + timedelta(seconds=60))
    assert not j.claimable(NOW + timedelta(seconds=30))
    with pytest.raises(IllegalTransition):
        j.claim(NOW + timedelta(seconds=30), NOW + timedelta(seconds=90))
    assert j.claimable(NOW + timedelta(seconds=60))
    j.claim(NOW + timedelta(seconds=61), NOW + timedelta(seconds=120))
    assert j.attempts == 2
    j.succeed("generation-1", NOW + timedelta(seconds=62))
    assert not j.claimable(NOW + timedelta(days=1))


def test_only_a_queued_job_can_be_cancelled() -> None:
    j = job()
    assert j.cancel(NOW) is False
    assert (j.status, j.error_code) == (JobStatus.FAILED, "CANCELED")
    running = job()
    running.claim(NOW, NOW + timedelta(seconds=60))
    with pytest.raises(JobNotCancellable):
        running.cancel(NOW)


def test_requeue_keeps_the_charge_and_the_error() -> None:
    j = job()
    j.claim(NOW, NOW + timedelta(seconds=60))
    j.mark_charged()
    j.requeue(JobErrorCode.PROVIDER_RATE_LIMITED, NOW)
    assert (j.status, j.charged, j.error_code, j.progress) == (
        JobStatus.QUEUED,
        True,
        "PROVIDER_RATE_LIMITED",
        0,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  a fox  ", "a fox"),
        ("a\u0000b\u200bc", "abc"),
        ("line one\nline two\ttab", "line one line two tab"),
        ("cafe\u0301", "café"),
    ],
)
def test_prompts_are_trimmed_and_cleaned(raw: str, expected: str) -> None:
    assert normalise_prompt(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "\u0000\u0001", "x" * 1001])
def test_bad_prompts_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        normalise_prompt(raw)


def test_a_prompt_of_exactly_1000_characters_is_accepted() -> None:
    assert len(normalise_prompt("y" * 1000)) == 1000


def test_fingerprints_ignore_member_order_and_whitespace() -> None:
    assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})


def test_idempotency_keys_are_bounded() -> None:
    assert check_idempotency_key("  k1 ") == "k1"
    assert check_idempotency_key("") is None
    with pytest.raises(ValidationFailed):
        check_idempotency_key("k" * 129)


def test_catalogue_resolves_defaults_aliases_and_refuses_unknown_names() -> None:
    catalogue = Catalogue(models=(MODEL,), default_model="offline", aliases={"gpt-4o": "offline"})
    assert catalogue.model(None).name == "offline"
    assert catalogue.model("gpt-4o").name == "offline"
    assert catalogue.style(None) == "minimal"
    with pytest.raises(ValidationFailed):
        catalogue.model("davinci")
    with pytest.raises(ValidationFailed):
        catalogue.style("baroque")


LEASE = timedelta(seconds=60)


def running(charged: bool = False) -> GenerationJob:
    j = job()
    j.claim(NOW, NOW + LEASE)
    if charged:
        assert j.charge(entry_id="c1", balance=5, now=NOW) is not None
    return j


def test_progress_only_rises_and_stays_below_100_until_success() -> None:
    j = running()
    later = NOW + timedelta(seconds=5)
    j.advance(70, later)
    j.advance(40, later)
    assert (j.progress, j.updated_at) == (70, later)
    j.advance(150, later)
    assert j.progress == 99


def test_a_renewed_lease_keeps_the_job_from_being_reclaimed() -> None:
    j = running()
    renewed_at = NOW + timedelta(seconds=20)
    j.renew_lease(renewed_at, renewed_at + LEASE)
    assert (j.lease_expires_at, j.updated_at) == (renewed_at + LEASE, renewed_at)
    assert not j.claimable(NOW + LEASE + timedelta(seconds=1))
    j.succeed("g1", NOW + timedelta(seconds=30))
    with pytest.raises(IllegalTransition):
        j.renew_lease(NOW, NOW + LEASE)


def test_a_job_needs_attention_when_its_lease_ran_out_or_it_waited_too_long() -> None:
    queued = job()
    assert queued.needs_attention(NOW, queued_before=NOW)
    assert not queued.needs_attention(NOW, queued_before=NOW - timedelta(seconds=1))
    held = running()
    assert not held.needs_attention(NOW + timedelta(seconds=59), queued_before=NOW + LEASE)
    assert held.needs_attention(NOW + LEASE, queued_before=NOW)
    held.succeed("g1", NOW)
    assert not held.needs_attention(NOW + timedelta(days=1), queued_before=NOW + timedelta(days=1))


def test_hand_back_requeues_an_abandoned_job_and_stamps_a_waiting_one() -> None:
    abandoned = running(charged=True)
    assert abandoned.hand_back(NOW + LEASE) is True
    assert (abandoned.status, abandoned.error_code, abandoned.charged, abandoned.progress) == (
        JobStatus.QUEUED,
        JobErrorCode.TIMED_OUT,
        True,
        0,
    )
    waiting = job()
    later = NOW + timedelta(minutes=5)
    assert waiting.hand_back(later) is False
    assert (waiting.status, waiting.updated_at, waiting.error_code) == (
        JobStatus.QUEUED,
        later,
        None,
    )


def test_hand_back_refuses_a_job_held_by_a_live_lease_or_finished() -> None:
    held = running()
    with pytest.raises(IllegalTransition):
        held.hand_back(NOW + timedelta(seconds=30))
    assert (held.status, held.lease_expires_at) == (JobStatus.RUNNING, NOW + LEASE)
    held.succeed("g1", NOW)
    with pytest.raises(IllegalTransition):
        held.hand_back(NOW + timedelta(days=1))


def test_charge_writes_one_debit_and_a_reclaimed_job_keeps_it() -> None:
    j = running()
    entry = j.charge(entry_id="c1", balance=1, now=NOW)
    assert entry is not None and (entry.delta, entry.job_id, entry.user_id) == (-1, "j1", "u1")
    assert j.charged
    j.requeue(JobErrorCode.PROVIDER_UNAVAILABLE, NOW)
    j.claim(NOW, NOW + LEASE)
    assert j.charge(entry_id="c2", balance=0, now=NOW) is None


def test_a_charge_the_balance_cannot_cover_leaves_the_job_uncharged() -> None:
    j = running()
    with pytest.raises(InsufficientCredits):
        j.charge(entry_id="c1", balance=0, now=NOW)
    assert not j.charged
    assert j.fail_and_refund(JobErrorCode.INSUFFICIENT_CREDITS, NOW, refund_id="r1") is None
    assert (j.status, j.refunded) == (JobStatus.FAILED, False)


def test_failing_a_charged_job_refunds_it_once() -> None:
    j = running(charged=True)
    refund = j.fail_and_refund(JobErrorCode.PROVIDER_REFUSED, NOW, refund_id="r1")
    assert refund is not None
    assert (refund.id, refund.delta, refund.reason, refund.job_id) == (
        "r1",
        1,
        LedgerReason.GENERATION_REFUND,
        "j1",
    )
    assert (j.status, j.error_code, j.refunded) == (JobStatus.FAILED, "PROVIDER_REFUSED", True)
    with pytest.raises(IllegalTransition):
        j.fail_and_refund(JobErrorCode.PROVIDER_REFUSED, NOW, refund_id="r2")


def test_cancelling_refunds_a_job_handed_back_after_its_charge() -> None:
    fresh = job()
    assert fresh.cancel_and_refund(NOW, refund_id="r1") is None
    assert (fresh.status, fresh.error_code) == (JobStatus.FAILED, "CANCELED")
    handed_back = running(charged=True)
    handed_back.hand_back(NOW + LEASE)
    refund = handed_back.cancel_and_refund(NOW + LEASE, refund_id="r2")
    assert refund is not None and refund.delta == 1 and handed_back.refunded
    with pytest.raises(JobNotCancellable):
        running().cancel_and_refund(NOW, refund_id="r3")
