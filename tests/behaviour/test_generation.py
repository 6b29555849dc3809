"""The generation pipeline's use cases, on every storage adapter set, with fakes at the edges."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from chatsvg.application.generation.retry import RetryPolicy
from chatsvg.application.generation.submission import SubmitCommand
from chatsvg.application.ports import ModelAnswer, TaskPayload
from chatsvg.domain.errors import (
    IdempotencyKeyReused,
    InsufficientCredits,
    JobNotCancellable,
    NotFound,
)
from chatsvg.domain.generation.generations import artifact_key
from chatsvg.domain.generation.jobs import JobStatus
from tests.conftest import Stack
from tests.support.fakes import permanent, transient


def command(
    user_id: str, prompt: str = "a red fox", key: str | None = None, **extra: object
) -> SubmitCommand:
    body = {"prompt": prompt, **extra}
    return SubmitCommand(
        user_id=user_id,
        prompt=prompt,
        style=extra.get("style"),  # type: ignore[arg-type]
        model=extra.get("model"),  # type: ignore[arg-type]
        privacy=extra.get("privacy"),  # type: ignore[arg-type]
        raw_body=body,
        idempotency_key=key,
    )


async def ledger_of(stack: Stack, user_id: str) -> list[tuple[int, str, str | None]]:
    page = await stack.library.ledger(user_id, limit=100, cursor=None)
    return sorted((e.delta, e.reason, e.job_id) for e in page.items)


def updates(stack: Stack, job_id: str) -> list[str]:
    return [
        p["status"]
        for (event, _, p) in stack.realtime.events
        if event == "generation-job:update" and p["jobId"] == job_id
    ]


async def test_submit_records_a_queued_job_enqueues_it_and_charges_nothing_yet(
    stack: Stack,
) -> None:
    user = await stack.user()
    submitted = await stack.generation.submit(command(user, "  a red\u0000 fox  "))
    job = submitted.job
    assert (job.status, job.prompt, job.style, job.model, job.privacy) == (
        JobStatus.QUEUED,
        "a red fox",
        "minimal",
        "offline",
        True,
    )
    assert stack.queue.messages == [(job.id, 0.0)]
    assert updates(stack, job.id) == ["QUEUED"]
    assert await stack.library.balance(user) == 10


async def test_a_job_runs_to_success_charging_once_and_storing_a_sanitized_svg(
    stack: Stack,
) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    await stack.drain()
    details = await stack.generation.details(user, job.id)
    assert details.job.status is JobStatus.SUCCEEDED
    assert details.job.progress == 100 and details.job.attempts == 1
    assert details.generation is not None and details.svg is not None
    assert details.svg.startswith("<svg") and "<script" not in details.svg
    assert details.credits == 9
    assert await stack.storage.exists(artifact_key(user, job.id))
    assert await ledger_of(stack, user) == sorted(
        [(10, "SIGNUP_GRANT", None), (-1, "GENERATION_CHARGE", job.id)]
    )
    statuses = updates(stack, job.id)
    assert statuses[0] == "QUEUED" and statuses[1] == "RUNNING" and statuses[-1] == "SUCCEEDED"
    notes = [p["type"] for (event, _, p) in stack.realtime.events if event == "notification:new"]
    assert notes == ["JOB_SUCCEEDED"]


async def test_transient_faults_retry_with_backoff_then_succeed_charging_once(stack: Stack) -> None:
    user = await stack.user()
    stack.generator.script.extend([transient("PROVIDER_RATE_LIMITED"), transient()])
    job = (await stack.generation.submit(command(user))).job
    stack.queue.take()
    assert await stack.processor.process(job.id) is not None  # a delay: retry later
    mid = (await stack.generation.details(user, job.id)).job
    assert (mid.status, mid.error_code, mid.charged) == (
        JobStatus.QUEUED,
        "PROVIDER_RATE_LIMITED",
        True,
    )
    assert await stack.processor.process(job.id) is not None
    assert await stack.processor.process(job.id) is None
    done = await stack.generation.details(user, job.id)
    assert (done.job.status, done.job.attempts, done.credits) == (JobStatus.SUCCEEDED, 3, 9)
    assert [r for r in await ledger_of(stack, user) if r[2] == job.id] == [
        (-1, "GENERATION_CHARGE", job.id)
    ]


async def test_a_permanent_fault_fails_at_once_and_refunds_exactly_once(stack: Stack) -> None:
    user = await stack.user()
    stack.generator.script.append(permanent("PROVIDER_REFUSED"))
    job = (await stack.generation.submit(command(user))).job
    await stack.drain()
    failed = await stack.generation.details(user, job.id)
    assert (failed.job.status, failed.job.error_code, failed.credits) == (
        JobStatus.FAILED,
        "PROVIDER_REFUSED",
        10,
    )
    assert failed.job.error_message
    rows = [r for r in await ledger_of(stack, user) if r[2] == job.id]
    assert rows == sorted([(-1, "GENERATION_CHARGE", job.id), (1, "GENERATION_REFUND", job.id)])
    # Replaying the message changes nothing.
    assert await stack.processor.process(job.id) is None
    assert [r for r in await ledger_of(stack, user) if r[2] == job.id] == rows


async def test_retries_run_out_then_the_job_fails_and_is_refunded(stack: Stack) -> None:
    user = await stack.user()
    stack.generator.script.extend([transient(), transient(), transient(), transient()])
    job = (await stack.generation.submit(command(user))).job
    await stack.drain()
    failed = await stack.generation.details(user, job.id)
    assert (failed.job.status, failed.job.error_code, failed.job.attempts) == (
        JobStatus.FAILED,
        "PROVIDER_UNAVAILABLE",
        3,
    )
    assert failed.credits == 10


async def test_an_unusable_svg_is_retried_then_fails_as_invalid_svg(stack: Stack) -> None:
    user = await stack.user()
    # Each attempt asks once more (a repair) before giving up on its answer.
    stack.generator.script.extend(
        ["<html>no svg here</html>", "<svg><script>alert(1)</script>", "not xml at all <", ""]
    )
    job = (await stack.generation.submit(command(user))).job
    await stack.drain()
    failed = await stack.generation.details(user, job.id)
    assert (failed.job.status, failed.job.error_code, failed.credits) == (
        JobStatus.FAILED,
        "INVALID_SVG",
        10,
    )


async def test_a_hostile_svg_is_stored_only_after_sanitizing(stack: Stack) -> None:
    user = await stack.user()
    stack.generator.script.append(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)">'
        '<script>alert(2)</script><a href="javascript:alert(3)"><rect width="5" height="5"/></a></svg>'
    )
    job = (await stack.generation.submit(command(user))).job
    await stack.drain()
    details = await stack.generation.details(user, job.id)
    assert details.job.status is JobStatus.SUCCEEDED
    assert details.svg is not None
    for needle in ("onload", "<script", "javascript:", "alert"):
        assert needle not in details.svg


async def test_worker_charges_only_what_the_balance_covers(make_stack: object) -> None:
    stack = make_stack(start_credits=1)  # type: ignore[operator]
    user = await stack.user()
    first = (await stack.generation.submit(command(user, "one"))).job
    with pytest.raises(InsufficientCredits):
        await stack.generation.submit(
            command(user, "two")
        )  # the queued job already reserves the only credit
    await stack.drain()
    assert (await stack.generation.details(user, first.id)).credits == 0
    with pytest.raises(InsufficientCredits):
        await stack.generation.submit(command(user, "three"))


async def test_insufficient_credits_at_claim_time_fails_without_a_charge(
    make_stack: object,
) -> None:
    stack = make_stack(start_credits=1)  # type: ignore[operator]
    user = await stack.user()
    first = (await stack.generation.submit(command(user, "one"))).job
    stack.queue.take()
    # A credit spent elsewhere between submit and claim (e.g. an admin revoke): simulate with a second job claimed first.
    await stack.processor.process(first.id)
    extra = await add_job_directly(stack, user, "x")
    await stack.processor.process(extra)
    failed = await stack.generation.details(user, extra)
    assert (failed.job.status, failed.job.error_code, failed.job.charged) == (
        JobStatus.FAILED,
        "INSUFFICIENT_CREDITS",
        False,
    )
    assert failed.credits == 0


async def test_idempotency_key_same_body_same_job_different_body_422(stack: Stack) -> None:
    user = await stack.user()
    first = await stack.generation.submit(command(user, "a fox", key="k-1", style="flat"))
    again = await stack.generation.submit(command(user, "a fox", key="k-1", style="flat"))
    assert (again.job.id, again.duplicate, first.duplicate) == (first.job.id, True, False)
    with pytest.raises(IdempotencyKeyReused):
        await stack.generation.submit(command(user, "a dog", key="k-1", style="flat"))
    # The same key belongs to each user separately.
    other = await stack.user("bob@example.com")
    theirs = await stack.generation.submit(command(other, "a fox", key="k-1", style="flat"))
    assert theirs.job.id != first.job.id and not theirs.duplicate
    assert len(stack.queue.messages) == 2


async def test_parallel_submits_with_one_key_make_one_job(stack: Stack) -> None:
    user = await stack.user()
    results = await asyncio.gather(
        *(stack.generation.submit(command(user, "same", key="race")) for _ in range(50))
    )
    assert len({r.job.id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1
    page = await stack.generation.list_jobs(user, status=None, limit=100, cursor=None)
    assert len(page.items) == 1


async def test_cancel_a_queued_job_only(stack: Stack) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    cancelled = await stack.generation.cancel(user, job.id)
    assert (cancelled.status, cancelled.error_code) == (JobStatus.FAILED, "CANCELED")
    await stack.drain()  # the queued message finds a terminal job and does nothing
    assert (await stack.generation.details(user, job.id)).credits == 10
    with pytest.raises(JobNotCancellable):
        await stack.generation.cancel(user, job.id)


async def test_cancelling_a_requeued_charged_job_refunds_it(stack: Stack) -> None:
    user = await stack.user()
    stack.generator.script.append(transient())
    job = (await stack.generation.submit(command(user))).job
    stack.queue.take()
    assert await stack.processor.process(job.id) is not None
    assert (await stack.generation.details(user, job.id)).credits == 9
    await stack.generation.cancel(user, job.id)
    assert (await stack.generation.details(user, job.id)).credits == 10
    rows = [r for r in await ledger_of(stack, user) if r[2] == job.id]
    assert rows == sorted([(-1, "GENERATION_CHARGE", job.id), (1, "GENERATION_REFUND", job.id)])


async def test_two_workers_claiming_the_same_job_run_it_once(stack: Stack) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    stack.queue.take()
    await asyncio.gather(stack.processor.process(job.id), stack.processor.process(job.id))
    details = await stack.generation.details(user, job.id)
    assert (details.job.status, details.job.attempts, details.credits) == (
        JobStatus.SUCCEEDED,
        1,
        9,
    )
    assert len(stack.generator.requests) == 1


async def test_a_crash_after_the_claim_is_recovered_by_the_reaper_without_a_second_charge(
    stack: Stack,
) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    stack.queue.take()

    class Crash(BaseException):
        pass

    def boom(_request: object) -> str:
        raise Crash()  # the worker process dies mid-call: nothing after this line runs

    stack.generator.script.append(boom)
    with pytest.raises(Crash):
        await stack.processor.process(job.id)
    await held_until_its_lease_then_finished_once(stack, user, job.id)


async def held_until_its_lease_then_finished_once(stack: Stack, user: str, job_id: str) -> None:
    """The job stays RUNNING (charged, first attempt) until its lease runs out; the reaper then
    hands it back and a second attempt finishes it, charged once in all."""
    stuck = (await stack.generation.details(user, job_id)).job
    assert (stuck.status, stuck.attempts, stuck.charged) == (JobStatus.RUNNING, 1, True)
    assert await stack.reaper.sweep() == 0  # the lease has not run out yet
    stack.clock.advance(seconds=stack.processor.policy.lease_seconds + 1)
    assert await stack.reaper.sweep() == 1
    await stack.drain()
    done = await stack.generation.details(user, job_id)
    assert (done.job.status, done.job.attempts, done.credits) == (JobStatus.SUCCEEDED, 2, 9)


async def test_a_crash_after_storing_the_artifact_leaves_no_orphan_and_one_generation(
    stack: Stack,
) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    stack.queue.take()
    original_finish = stack.processor._finish

    async def die(*_args: object) -> None:
        raise KeyboardInterrupt  # dies between the upload and the final commit

    stack.processor._finish = die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        await stack.processor.process(job.id)
    stack.processor._finish = original_finish  # type: ignore[method-assign]
    assert list(await stack.storage.keys()) == [artifact_key(user, job.id)]
    stack.clock.advance(seconds=stack.processor.policy.lease_seconds + 1)
    await stack.reaper.sweep()
    await stack.drain()
    page = await stack.library.list_for_user(
        user, limit=10, cursor=None, style=None, model=None, privacy=None
    )
    assert len(page.items) == 1
    assert list(await stack.storage.keys()) == [artifact_key(user, job.id)]
    assert (await stack.generation.details(user, job.id)).credits == 9


async def test_lease_exhaustion_fails_and_refunds(make_stack: object) -> None:
    stack = make_stack(policy=RetryPolicy(max_attempts=2, lease_seconds=10, stale_queued_seconds=5))  # type: ignore[operator]
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    stack.queue.take()

    def hang(_request: object) -> str:
        raise SystemExit  # a worker killed twice in a row

    stack.generator.script.extend([hang, hang])
    for _ in range(2):
        with pytest.raises(SystemExit):
            await stack.processor.process(job.id)
        stack.clock.advance(seconds=11)
        await stack.reaper.sweep()
    await stack.drain()
    failed = await stack.generation.details(user, job.id)
    assert (failed.job.status, failed.job.error_code, failed.credits) == (
        JobStatus.FAILED,
        "TIMED_OUT",
        10,
    )


async def test_a_lost_enqueue_is_picked_up_by_the_reaper(stack: Stack) -> None:
    user = await stack.user()
    stack.queue.fail = True
    job = (await stack.generation.submit(command(user))).job  # recorded, but the queue was down
    stack.queue.fail = False
    assert stack.queue.messages == []
    stack.clock.advance(seconds=stack.processor.policy.stale_queued_seconds + 1)
    assert await stack.reaper.sweep() == 1
    await stack.drain()
    assert (await stack.generation.details(user, job.id)).job.status is JobStatus.SUCCEEDED


async def test_other_users_cannot_see_or_touch_a_job_or_generation(stack: Stack) -> None:
    ada = await stack.user()
    bob = await stack.user("bob@example.com")
    job = (await stack.generation.submit(command(ada))).job
    await stack.drain()
    generation_id = (await stack.generation.details(ada, job.id)).job.generation_id
    assert generation_id
    with pytest.raises(NotFound):
        await stack.generation.details(bob, job.id)
    with pytest.raises(NotFound):
        await stack.generation.cancel(bob, job.id)
    with pytest.raises(NotFound):
        await stack.library.download(bob, generation_id)
    with pytest.raises(NotFound):
        await stack.library.source(bob, generation_id)
    with pytest.raises(NotFound):
        await stack.library.delete(bob, generation_id)
    with pytest.raises(NotFound):
        await stack.library.set_privacy(bob, generation_id, False)
    assert (await stack.generation.list_jobs(bob, status=None, limit=10, cursor=None)).items == []


async def test_jobs_list_newest_first_with_cursor_paging_and_status_filter(stack: Stack) -> None:
    user = await stack.user()
    ids = []
    for i in range(5):
        ids.append((await stack.generation.submit(command(user, f"prompt {i}"))).job.id)
        stack.clock.advance(seconds=1)
        stack.queue.take()
    first = await stack.generation.list_jobs(user, status=None, limit=2, cursor=None)
    assert [j.id for j, _ in first.items] == ids[::-1][:2] and first.next_cursor
    second = await stack.generation.list_jobs(user, status=None, limit=2, cursor=first.next_cursor)
    third = await stack.generation.list_jobs(user, status=None, limit=2, cursor=second.next_cursor)
    assert [j.id for j, _ in second.items + third.items] == ids[::-1][2:]
    assert third.next_cursor is None
    await stack.generation.cancel(user, ids[0])
    failed = await stack.generation.list_jobs(user, status="failed", limit=10, cursor=None)
    assert [j.id for j, _ in failed.items] == [ids[0]]


async def test_privacy_public_gallery_and_delete(stack: Stack) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user, "public fox", privacy=False))).job
    await stack.drain()
    generation_id = (await stack.generation.details(user, job.id)).job.generation_id
    assert generation_id
    gallery = await stack.library.public(limit=10, cursor=None, style=None, model=None)
    assert [g.id for g in gallery.items] == [generation_id]
    _, svg = await stack.library.source(None, generation_id)  # public: anyone may read it
    assert svg.startswith("<svg")
    await stack.library.set_privacy(user, generation_id, True)
    assert (await stack.library.public(limit=10, cursor=None, style=None, model=None)).items == []
    with pytest.raises(NotFound):
        await stack.library.source(None, generation_id)
    await stack.library.delete(user, generation_id)
    assert await stack.storage.keys() == []
    with pytest.raises(NotFound):
        await stack.library.source(user, generation_id)


async def test_balance_invariant_after_mixed_outcomes(stack: Stack) -> None:
    user = await stack.user()
    stack.generator.script.extend([permanent(), transient(), permanent("PROVIDER_REFUSED")])
    for i in range(5):
        await stack.generation.submit(command(user, f"p{i}"))
    await stack.drain()
    page = await stack.generation.list_jobs(user, status=None, limit=100, cursor=None)
    succeeded = sum(j.status is JobStatus.SUCCEEDED for j, _ in page.items)
    assert all(j.status.terminal for j, _ in page.items)
    entries = await ledger_of(stack, user)
    balance = await stack.library.balance(user)
    assert balance == sum(delta for delta, _, _ in entries) == 10 - succeeded
    charges = [job for _, reason, job in entries if reason == "GENERATION_CHARGE"]
    refunds = [job for _, reason, job in entries if reason == "GENERATION_REFUND"]
    assert len(charges) == len(set(charges)) and len(refunds) == len(set(refunds))
    assert set(refunds) <= set(charges)


async def test_stale_running_jobs_are_not_stolen_while_the_lease_is_fresh(stack: Stack) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    async with stack.uow() as uow:
        current = await uow.jobs.get(job.id)
        assert current is not None
        current.claim(stack.clock.now(), stack.clock.now() + timedelta(seconds=60))
        await uow.jobs.save(current, expected_status=JobStatus.QUEUED, expected_attempts=0)
        await uow.commit()
    assert await stack.processor.process(job.id) is None  # held by "another worker"
    assert len(stack.generator.requests) == 0


async def test_a_dead_provider_opens_the_circuit_instead_of_burning_every_jobs_attempts(
    stack: Stack,
) -> None:
    from chatsvg.application.generation.circuit import ProviderCircuit

    stack.processor.circuit = ProviderCircuit(stack.clock, threshold=2, cooldown=30)
    user = await stack.user()
    stack.generator.script.extend([transient(), transient(), transient()])
    jobs = [(await stack.generation.submit(command(user, f"c{i}"))).job for i in range(4)]
    stack.queue.take()
    for job in jobs[:2]:
        assert (
            await stack.processor.process(job.id) is not None
        )  # two real failures open the circuit
    assert stack.processor.circuit.is_open
    held = await stack.processor.process(jobs[2].id)
    assert held is not None and held >= 20
    untouched = (await stack.generation.details(user, jobs[2].id)).job
    assert (untouched.status, untouched.attempts) == (JobStatus.QUEUED, 0)  # no attempt spent
    assert len(stack.generator.requests) == 2
    stack.clock.advance(seconds=31)
    assert (
        await stack.processor.process(jobs[2].id) is not None
    )  # the half-open probe fails: open again
    assert stack.processor.circuit.is_open
    stack.clock.advance(seconds=31)
    assert await stack.processor.process(jobs[3].id) is None  # the probe succeeds: closed
    assert not stack.processor.circuit.is_open
    assert (await stack.generation.details(user, jobs[3].id)).job.status is JobStatus.SUCCEEDED


async def test_the_circuit_closes_after_a_good_probe_and_lets_every_later_job_through(
    stack: Stack,
) -> None:
    """The defect: a probe's success never closed the circuit, so every job after it was held
    back for the life of the process."""
    from chatsvg.application.generation.circuit import ProviderCircuit

    stack.processor.circuit = ProviderCircuit(stack.clock, threshold=2, cooldown=30)
    user = await stack.user()
    stack.generator.script.extend([transient(), transient()])
    jobs = [(await stack.generation.submit(command(user, f"p{i}"))).job for i in range(6)]
    stack.queue.take()
    for job in jobs[:2]:
        assert await stack.processor.process(job.id) is not None
    assert stack.processor.circuit.state == "open"
    stack.clock.advance(seconds=31)
    assert stack.processor.circuit.state == "half-open"
    assert await stack.processor.process(jobs[2].id) is None  # the probe succeeds
    assert stack.processor.circuit.state == "closed"
    for job in jobs[3:]:  # every later job runs at once, none held back
        assert await stack.processor.process(job.id) is None
        assert (await stack.generation.details(user, job.id)).job.status is JobStatus.SUCCEEDED


async def test_transient_faults_between_successes_never_open_the_circuit(stack: Stack) -> None:
    """The breaker counts provider faults in a row, not over the life of the process."""
    from chatsvg.application.generation.circuit import ProviderCircuit

    stack.processor.circuit = ProviderCircuit(stack.clock, threshold=3, cooldown=30)
    user = await stack.user()
    for i in range(8):  # fault, success, fault, success, ...: eight faults, never three in a row
        stack.generator.script.extend(
            [
                transient(),
                "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'><rect width='5' height='5'/></svg>",
            ]
        )
        job = (await stack.generation.submit(command(user, f"t{i}"))).job
        stack.queue.take()
        assert await stack.processor.process(job.id) is not None  # the fault: retried later
        assert await stack.processor.process(job.id) is None  # the retry succeeds
        assert stack.processor.circuit.state == "closed"
    assert len(stack.generator.requests) == 16


async def test_a_probe_that_never_reaches_the_model_gives_its_place_back(stack: Stack) -> None:
    """A probe whose attempt ends before the model call (the job was not claimable, or the
    claim failed) must not leave the breaker waiting for a verdict forever."""
    from chatsvg.application.generation.circuit import ProviderCircuit

    stack.processor.circuit = ProviderCircuit(stack.clock, threshold=1, cooldown=30)
    stack.processor.policy = RetryPolicy(
        max_attempts=3, backoff_base=0.01, backoff_cap=0.05, transaction_retry_pauses=()
    )
    user = await stack.user()
    stack.generator.script.append(transient())
    first = (await stack.generation.submit(command(user, "first"))).job
    second = (await stack.generation.submit(command(user, "second"))).job
    stack.queue.take()
    assert await stack.processor.process(first.id) is not None
    assert stack.processor.circuit.state == "open"
    stack.clock.advance(seconds=31)
    # The probe is spent on a job that is not there to claim: no verdict, place given back.
    assert await stack.processor.process("no-such-job") is None
    # The next probe's claim crashes (the database is away): no verdict either.
    real_uow = stack.processor._uow

    def broken() -> object:
        raise ConnectionError("database away")

    stack.processor._uow = broken  # type: ignore[assignment]
    with pytest.raises(ConnectionError):
        await stack.processor.process(second.id)
    stack.processor._uow = real_uow
    assert stack.processor.circuit.state == "half-open"
    assert await stack.processor.process(second.id) is None  # this probe reaches the model
    assert stack.processor.circuit.state == "closed"
    assert (await stack.generation.details(user, second.id)).job.status is JobStatus.SUCCEEDED


async def test_parallel_submits_draining_a_balance_never_take_it_below_zero(
    make_stack: object,
) -> None:
    stack = make_stack(start_credits=5)  # type: ignore[operator]
    user = await stack.user()
    results = await asyncio.gather(
        *(stack.generation.submit(command(user, f"drain {i}")) for i in range(30)),
        return_exceptions=True,
    )
    accepted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert len(accepted) + len(refused) == 30 and len(accepted) >= 5
    await asyncio.gather(*(stack.processor.process(r.job.id) for r in accepted))
    await stack.drain()
    balance = await stack.library.balance(user)
    page = await stack.generation.list_jobs(user, status="succeeded", limit=100, cursor=None)
    assert balance == 5 - len(page.items) >= 0
    assert len(page.items) == 5


async def test_the_daily_quota_counts_submitted_jobs_per_utc_day(stack: Stack) -> None:
    from chatsvg.adapters.rate_limits import LimitsRateLimiter, RatePolicy
    from chatsvg.application.generation.submission import GenerationService
    from chatsvg.domain.errors import RateLimited
    from tests.conftest import CATALOGUE

    limiter = LimitsRateLimiter.in_memory({"daily-quota": RatePolicy(2, 86_400 + 3600)})
    service = GenerationService(
        uow=stack.uow,
        queue=stack.queue,
        storage=stack.storage,
        realtime=stack.realtime,
        clock=stack.clock,
        catalogue=CATALOGUE,
        limiter=limiter,
        daily_quota=2,
    )
    user = await stack.user()
    stack.generator.script.append(permanent())
    await service.submit(command(user, "one"))
    await stack.drain()  # it fails, and still counts
    await service.submit(command(user, "two"))
    with pytest.raises(RateLimited):
        await service.submit(command(user, "three"))
    stack.clock.advance(days=1)  # a new UTC day is a new count
    await service.submit(command(user, "four"))


async def test_the_jobs_list_carries_each_jobs_generation(stack: Stack) -> None:
    user = await stack.user()
    done = (await stack.generation.submit(command(user, "done"))).job
    await stack.drain()
    waiting = (await stack.generation.submit(command(user, "waiting"))).job
    page = await stack.generation.list_jobs(user, status=None, limit=10, cursor=None)
    by_id = {job.id: generation for job, generation in page.items}
    assert by_id[waiting.id] is None
    generation = by_id[done.id]
    assert generation is not None and generation.job_id == done.id


class StallingStorage:
    """Storage whose first put waits for a signal: a worker stuck in an upload while its lease runs out."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.release = asyncio.Event()
        self.stalled = asyncio.Event()
        self._first = True

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        if self._first:
            self._first = False
            self.stalled.set()
            await self.release.wait()
        await self.inner.put(key, data, content_type)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


async def _stale_attempt_race(stack: Stack, *, second_attempt_fails: bool) -> tuple[str, str]:
    storage = StallingStorage(stack.storage)
    stack.processor._storage = storage  # type: ignore[assignment]
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    stack.queue.take()
    stale = asyncio.create_task(stack.processor.process(job.id))
    await asyncio.wait_for(storage.stalled.wait(), 5)
    stack.clock.advance(seconds=stack.processor.policy.lease_seconds + 1)
    assert await stack.reaper.sweep() == 1
    if second_attempt_fails:
        stack.generator.script.append(permanent())
    await stack.drain()
    storage.release.set()
    await stale
    return user, job.id


async def test_a_stale_attempt_finishing_after_a_failure_leaves_no_file(stack: Stack) -> None:
    user, job_id = await _stale_attempt_race(stack, second_attempt_fails=True)
    assert (await stack.generation.details(user, job_id)).job.status is JobStatus.FAILED
    assert await stack.storage.keys() == []


async def test_a_stale_attempt_finishing_after_a_success_keeps_the_file(stack: Stack) -> None:
    user, job_id = await _stale_attempt_race(stack, second_attempt_fails=False)
    details = await stack.generation.details(user, job_id)
    assert details.job.status is JobStatus.SUCCEEDED and details.svg is not None
    assert await stack.storage.keys() == [artifact_key(user, job_id)]
    page = await stack.library.list_for_user(
        user, limit=10, cursor=None, style=None, model=None, privacy=None
    )
    assert len(page.items) == 1


class CountingUnitOfWork:
    """Counts units of work open at once (including any wait to enter them)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.open = 0
        self.peak = 0
        self.opened = 0

    def __call__(self) -> object:
        outer = self
        self.opened += 1

        class Counted:
            async def __aenter__(self) -> object:
                outer.open += 1
                outer.peak = max(outer.peak, outer.open)
                await asyncio.sleep(0.005)  # a slow database: claims overlap unless held back
                self.uow = outer.inner()  # type: ignore[operator]
                return await self.uow.__aenter__()

            async def __aexit__(self, *exc: object) -> object:
                try:
                    return await self.uow.__aexit__(*exc)
                finally:
                    outer.open -= 1

        return Counted()


async def test_claims_are_batched_and_bounded_so_finishing_attempts_are_not_queued_behind_a_burst(
    stack: Stack,
) -> None:
    from chatsvg.application.generation.processor import JobProcessor

    user = await stack.user()
    job_ids = [
        (await stack.generation.submit(command(user, f"burst {i}"))).job.id for i in range(6)
    ]
    stack.queue.take()
    counting = CountingUnitOfWork(stack.uow)
    model_answers = asyncio.Event()

    async def slow_model(request: object) -> str:
        await model_answers.wait()
        return "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'><rect width='5' height='5'/></svg>"

    class WaitingGenerator:
        async def generate(self, request: object) -> ModelAnswer:
            return ModelAnswer(await slow_model(request), "offline")

    processor = JobProcessor(
        uow=counting,  # type: ignore[arg-type]
        generator=WaitingGenerator(),  # type: ignore[arg-type]
        sanitizer=stack.processor._sanitizer,
        storage=stack.storage,
        realtime=stack.realtime,
        clock=stack.clock,
        catalogue=stack.generation.catalogue,
        claim_concurrency=2,
        claim_batch=2,
    )
    attempts = [asyncio.create_task(processor.process(job_id)) for job_id in job_ids]
    for _ in range(200):  # every attempt has claimed and now waits for the model
        await asyncio.sleep(0.01)
        statuses = [(await stack.generation.details(user, j)).job.status for j in job_ids]
        if counting.open == 0 and set(statuses) == {JobStatus.RUNNING}:
            break
    # Six claims in three transactions of two jobs, never more than two transactions at once.
    assert (counting.opened, counting.peak) == (3, 2)
    model_answers.set()
    assert await asyncio.gather(*attempts) == [None] * 6
    for job_id in job_ids:
        assert (await stack.generation.details(user, job_id)).job.status is JobStatus.SUCCEEDED


class FlakyCommits:
    """Units of work whose commit fails, chosen by the order they are opened in: what a database
    connection dropped mid-transaction does. The transaction then rolls back, as it would."""

    def __init__(self, inner: object, failing: set[int], *, after_commit: bool = False) -> None:
        self.inner = inner
        self.failing = failing
        self.after_commit = after_commit  # the commit happens, only its answer is lost
        self.opened = 0

    def __call__(self) -> object:
        self.opened += 1
        uow = self.inner()  # type: ignore[operator]
        if self.opened in self.failing:
            commit = uow.commit

            async def dropped() -> None:
                if self.after_commit:
                    await commit()
                raise ConnectionResetError("the database went away")

            uow.commit = dropped
        return uow


async def test_a_dropped_connection_in_the_claim_or_the_finish_is_retried_not_redone(
    stack: Stack,
) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    stack.queue.take()
    stack.processor.policy = RetryPolicy(transaction_retry_pauses=(0, 0))
    # Units of work of one attempt: 1 the claim (fails), 2 its retry, 3 the finish (fails),
    # 4 its retry.
    flaky = FlakyCommits(stack.processor._uow, failing={1, 3})
    stack.processor._uow = flaky  # type: ignore[assignment]
    assert await stack.processor.process(job.id) is None
    assert flaky.opened == 4
    details = await stack.generation.details(user, job.id)
    assert (details.job.status, details.job.attempts, details.credits) == (
        JobStatus.SUCCEEDED,
        1,
        9,
    )
    assert len(stack.generator.requests) == 1  # the SVG was made once, not again by a new attempt
    assert await stack.storage.keys() == [artifact_key(user, job.id)]
    page = await stack.library.list_for_user(
        user, limit=10, cursor=None, style=None, model=None, privacy=None
    )
    assert len(page.items) == 1
    assert stack.queue.take() == []  # nothing was left for the reaper


async def test_a_finish_that_keeps_failing_leaves_the_job_to_its_lease(stack: Stack) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    stack.queue.take()
    stack.processor.policy = RetryPolicy(transaction_retry_pauses=(0, 0))
    flaky = FlakyCommits(stack.processor._uow, failing={2, 3, 4})
    stack.processor._uow = flaky  # type: ignore[assignment]
    with pytest.raises(ConnectionResetError):
        await stack.processor.process(job.id)
    stack.processor._uow = flaky.inner  # type: ignore[assignment]
    await held_until_its_lease_then_finished_once(stack, user, job.id)


async def test_a_finish_whose_commit_answer_was_lost_is_recognised_and_announced(
    stack: Stack,
) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    stack.queue.take()
    stack.processor.policy = RetryPolicy(transaction_retry_pauses=(0,))
    flaky = FlakyCommits(stack.processor._uow, failing={2}, after_commit=True)
    stack.processor._uow = flaky  # type: ignore[assignment]
    assert await stack.processor.process(job.id) is None
    assert flaky.opened == 3  # claim, finish (committed, answer lost), the retry that reads it
    details = await stack.generation.details(user, job.id)
    assert (details.job.status, details.credits) == (JobStatus.SUCCEEDED, 9)
    pushed = [e[2] for e in stack.realtime.events if e[0] == "generation-job:update"]
    assert pushed[-1]["status"] == "SUCCEEDED"
    assert any(e[0] == "notification:new" for e in stack.realtime.events)


@pytest.mark.parametrize("answer_lost", [False, True], ids=["commit-failed", "answer-lost"])
async def test_recording_a_fault_survives_a_dropped_connection(
    stack: Stack, answer_lost: bool
) -> None:
    """The fault's commit fails (rolled back), or happens and only its answer is lost: either way
    the rerun hands the job back at once, not after the reaper's stale-queued sweep."""
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    stack.queue.take()
    stack.generator.script.append(transient())
    stack.processor.policy = RetryPolicy(transaction_retry_pauses=(0,))
    # Units of work: 1 the claim, 2 the fault (fails), 3 its rerun.
    flaky = FlakyCommits(stack.processor._uow, failing={2}, after_commit=answer_lost)
    stack.processor._uow = flaky  # type: ignore[assignment]
    delay = await stack.processor.process(job.id)
    assert flaky.opened == 3
    assert delay is not None and delay > 0  # handed back for a later attempt, not left RUNNING
    requeued = (await stack.generation.details(user, job.id)).job
    assert (requeued.status, requeued.error_code, requeued.charged) == (
        JobStatus.QUEUED,
        "PROVIDER_UNAVAILABLE",
        True,
    )
    pushed = [e[2] for e in stack.realtime.events if e[0] == "generation-job:update"]
    assert pushed[-1]["status"] == "QUEUED"
    stack.processor._uow = flaky.inner  # type: ignore[assignment]
    assert await stack.processor.process(job.id) is None
    done = await stack.generation.details(user, job.id)
    assert (done.job.status, done.job.attempts, done.credits) == (JobStatus.SUCCEEDED, 2, 9)


def second_processor(stack: Stack, uow: object | None = None) -> object:
    """Another worker process's use case over the same stores and edges."""
    from chatsvg.application.generation.processor import JobProcessor

    return JobProcessor(
        uow=uow or stack.processor._uow,  # type: ignore[arg-type]
        generator=stack.generator,
        sanitizer=stack.processor._sanitizer,
        storage=stack.storage,
        realtime=stack.realtime,
        clock=stack.clock,
        catalogue=stack.generation.catalogue,
    )


async def add_job_directly(stack: Stack, user: str, prompt: str) -> str:
    """A job that skipped the submit's credit check (what a credit spent elsewhere between
    submit and claim amounts to)."""
    from chatsvg.application.ids import new_id
    from chatsvg.domain.generation.jobs import GenerationJob

    job = GenerationJob.submit(
        job_id=new_id(),
        user_id=user,
        prompt=prompt,
        style="minimal",
        model=stack.generation.catalogue.model(None),
        privacy=True,
        now=stack.clock.now(),
    )
    async with stack.uow() as uow:
        await uow.jobs.add(job)
        await uow.commit()
    return job.id


async def test_one_batch_of_claims_charges_what_the_balance_covers_and_fails_the_rest(
    make_stack: object,
) -> None:
    stack = make_stack(start_credits=3)  # type: ignore[operator]
    user = await stack.user()
    job_ids = [(await stack.generation.submit(command(user, f"p{i}"))).job.id for i in range(3)]
    job_ids += [await add_job_directly(stack, user, f"extra {i}") for i in range(3)]
    stack.queue.take()
    counting = CountingUnitOfWork(stack.processor._uow)
    processor = second_processor(stack, counting)

    await asyncio.gather(*(processor.process(job_id) for job_id in job_ids))  # type: ignore[attr-defined]

    jobs = [(await stack.generation.details(user, j)).job for j in job_ids]
    succeeded = [j for j in jobs if j.status is JobStatus.SUCCEEDED]
    failed = [j for j in jobs if j.status is JobStatus.FAILED]
    assert len(succeeded) == 3 and all(j.charged for j in succeeded)
    assert [(j.error_code, j.charged, j.refunded) for j in failed] == [
        ("INSUFFICIENT_CREDITS", False, False)
    ] * 3
    assert await stack.library.balance(user) == 0
    entries = [e for e in await ledger_of(stack, user) if e[1].startswith("GENERATION_")]
    assert sorted((delta, reason, job) for delta, reason, job in entries) == sorted(
        (-1, "GENERATION_CHARGE", j.id) for j in succeeded
    )
    assert len(stack.generator.requests) == 3
    # The six claims were one transaction, the three successes another.
    assert counting.opened == 2
    for job in failed:
        assert updates(stack, job.id)[-1] == "FAILED"


async def test_two_workers_claiming_overlapping_batches_charge_and_run_each_job_once(
    stack: Stack,
) -> None:
    user = await stack.user()
    job_ids = [(await stack.generation.submit(command(user, f"p{i}"))).job.id for i in range(8)]
    stack.queue.take()
    one, other = second_processor(stack), second_processor(stack)

    # Every message delivered to both workers, in opposite orders.
    await asyncio.gather(
        *(one.process(job_id) for job_id in job_ids),  # type: ignore[attr-defined]
        *(other.process(job_id) for job_id in reversed(job_ids)),  # type: ignore[attr-defined]
    )

    for job_id in job_ids:
        details = await stack.generation.details(user, job_id)
        assert (details.job.status, details.job.attempts) == (JobStatus.SUCCEEDED, 1)
    assert len(stack.generator.requests) == 8
    entries = [e for e in await ledger_of(stack, user) if e[1].startswith("GENERATION_")]
    assert sorted(entries) == sorted((-1, "GENERATION_CHARGE", job_id) for job_id in job_ids)
    assert await stack.library.balance(user) == 10 - 8


async def test_a_batch_of_successes_records_the_attempts_that_hold_their_jobs_only(
    stack: Stack,
) -> None:
    user = await stack.user()
    job_ids = [(await stack.generation.submit(command(user, f"p{i}"))).job.id for i in range(3)]
    stack.queue.take()
    answer = asyncio.Event()
    inner = stack.generator

    class WaitingGenerator:
        async def generate(self, request: object) -> ModelAnswer:
            await answer.wait()
            return await inner.generate(request)  # type: ignore[arg-type]

    counting = CountingUnitOfWork(stack.processor._uow)
    processor = second_processor(stack, counting)
    processor._generator = WaitingGenerator()  # type: ignore[attr-defined]
    attempts = [asyncio.create_task(processor.process(j)) for j in job_ids]  # type: ignore[attr-defined]
    for _ in range(200):
        await asyncio.sleep(0.01)
        jobs = [(await stack.generation.details(user, j)).job for j in job_ids]
        if {j.status for j in jobs} == {JobStatus.RUNNING}:
            break
    # The middle job's attempt loses it meanwhile (its lease ran out and it was handed back).
    async with stack.uow() as uow:
        lost = await uow.jobs.get(job_ids[1])
        assert lost is not None
        lost.requeue("TIMED_OUT", stack.clock.now())
        assert await uow.jobs.save(
            lost, expected_status=JobStatus.RUNNING, expected_attempts=lost.attempts
        )
        await uow.commit()
    answer.set()
    await asyncio.gather(*attempts)

    statuses = [(await stack.generation.details(user, j)).job.status for j in job_ids]
    assert statuses == [JobStatus.SUCCEEDED, JobStatus.QUEUED, JobStatus.SUCCEEDED]
    page = await stack.library.list_for_user(
        user, limit=10, cursor=None, style=None, model=None, privacy=None
    )
    assert sorted(g.generation.job_id for g in page.items) == sorted([job_ids[0], job_ids[2]])
    # The handed-back job keeps its file for the next attempt to overwrite.
    assert len(await stack.storage.keys()) == 3
    assert counting.opened == 2  # one claim transaction, one for the three results


async def test_claims_and_finishes_of_many_jobs_at_once_never_wait_on_each_other(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """Claim and finish batches of two workers running together over the same users: the row
    locks they take (jobs, balances) and those that inserts take for their foreign keys must not
    deadlock (a deadlock shows as a transaction tried again)."""
    users = [await stack.user(f"user{n}@example.com") for n in range(4)]
    owners = {
        (await stack.generation.submit(command(user, f"p{i}"))).job.id: user
        for i in range(9)
        for user in users
    }
    job_ids = list(owners)
    stack.queue.take()
    stack.processor.policy = RetryPolicy(transaction_retry_pauses=(0, 0, 0))
    workers = [second_processor(stack) for _ in range(3)]
    caplog.set_level("WARNING", logger="chatsvg.application.generation.processor")

    async def run(worker: object, job_id: str, pause: float) -> None:
        await asyncio.sleep(pause)
        await worker.process(job_id)  # type: ignore[attr-defined]

    await asyncio.gather(
        *(
            run(workers[n % 3], job_id, (n % 7) * 0.002)
            for n, job_id in enumerate(job_ids + job_ids[::-1] + job_ids[::2])
        )
    )

    for job_id, user in owners.items():
        details = await stack.generation.details(user, job_id)
        assert (details.job.status, details.job.attempts) == (JobStatus.SUCCEEDED, 1)
    for user in users:
        assert await stack.library.balance(user) == 10 - 9
    assert len(stack.generator.requests) == len(job_ids)
    assert [r.message for r in caplog.records if "trying again" in r.message] == []


async def test_a_connecting_socket_is_told_of_unfinished_and_recently_finished_jobs(
    stack: Stack,
) -> None:
    user = await stack.user()
    other = await stack.user("bob@example.com")
    old = (await stack.generation.submit(command(user, "finished long ago"))).job
    await stack.drain()
    stack.clock.advance(seconds=121)
    recent = (await stack.generation.submit(command(user, "finished just now"))).job
    await stack.drain()
    stack.clock.advance(seconds=60)
    waiting = (await stack.generation.submit(command(user, "still waiting"))).job
    await stack.generation.submit(command(other, "not yours"))
    updates = await stack.generation.live_updates(user)
    assert [(u["jobId"], u["status"]) for u in updates] == [
        (recent.id, "SUCCEEDED"),
        (waiting.id, "QUEUED"),
    ]
    assert old.id not in {u["jobId"] for u in updates}
    assert all(isinstance(u["seq"], int) for u in updates)


async def test_the_queued_update_is_on_its_way_before_the_job_is_enqueued(stack: Stack) -> None:
    """Otherwise a worker's RUNNING, sent by another process, can reach a client first."""
    user = await stack.user()
    seen: list[tuple[int, int]] = []
    enqueue = stack.queue.enqueue

    async def watching(task: str, payload: TaskPayload, *, delay_seconds: float = 0.0) -> None:
        seen.append((len(stack.realtime.events), len(stack.realtime.flushed_at)))
        await enqueue(task, payload, delay_seconds=delay_seconds)

    stack.queue.enqueue = watching  # type: ignore[method-assign]
    await stack.generation.submit(command(user))
    ((pushed, flushes),) = seen
    assert flushes == 1 and stack.realtime.flushed_at == [pushed]
    assert stack.realtime.events[pushed - 1][2]["status"] == "QUEUED"


async def test_the_reaper_sends_every_queued_again_push_before_it_enqueues_any_job(
    stack: Stack,
) -> None:
    """One wait for all the pushes of a sweep, not one per job handed back (a dead worker leaves
    hundreds); still, no job reaches the queue before its "queued again" update is on its way."""
    user = await stack.user()
    jobs = [(await stack.generation.submit(command(user, f"stuck {i}"))).job for i in range(3)]
    stack.queue.take()

    class Crash(BaseException):
        pass

    def boom(_request: object) -> str:
        raise Crash()

    for job in jobs:
        stack.generator.script.append(boom)
        with pytest.raises(Crash):
            await stack.processor.process(job.id)
    flushes_before = len(stack.realtime.flushed_at)
    seen: list[tuple[int, int]] = []
    enqueue = stack.queue.enqueue

    async def watching(task: str, payload: TaskPayload, *, delay_seconds: float = 0.0) -> None:
        seen.append((len(stack.realtime.events), len(stack.realtime.flushed_at)))
        await enqueue(task, payload, delay_seconds=delay_seconds)

    stack.queue.enqueue = watching  # type: ignore[method-assign]
    stack.clock.advance(seconds=stack.processor.policy.lease_seconds + 1)
    assert await stack.reaper.sweep() == 3
    assert len(stack.realtime.flushed_at) == flushes_before + 1
    pushed = stack.realtime.flushed_at[-1]
    assert seen == [(pushed, flushes_before + 1)] * 3
    requeued = [e[2] for e in stack.realtime.events[pushed - 3 : pushed]]
    assert {(u["jobId"], u["status"]) for u in requeued} == {(j.id, "QUEUED") for j in jobs}
