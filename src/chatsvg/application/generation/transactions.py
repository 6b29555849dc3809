"""The units of work of a job attempt: claiming a batch of jobs (claim and charge, or fail and
refund), recording a batch of successes, and recording a fault (requeue, or fail and refund).

Each is one transaction that starts from a fresh read, so each is safe to run again after a
failure (the processor does, `JobProcessor._retrying`); the domain decides every change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chatsvg.application.generation.retry import RetryPolicy
from chatsvg.application.ids import new_id
from chatsvg.application.ports import Clock, GenerationFault, UnitOfWork, UnitOfWorkFactory
from chatsvg.domain.credits.ledger import LedgerEntry
from chatsvg.domain.errors import InsufficientCredits
from chatsvg.domain.generation.generations import SvgGeneration
from chatsvg.domain.generation.jobs import GenerationJob, JobErrorCode, JobStatus
from chatsvg.domain.generation.usage import JobUsage
from chatsvg.domain.notifications.notifications import Notification, job_failed, low_credits


@dataclass
class Success:
    """An attempt's result, to be recorded: the job as it ends, and what goes with it."""

    done: GenerationJob
    attempt: int
    generation: SvgGeneration
    notification: Notification
    others: list[SvgGeneration] = field(default_factory=list)  # the job's other variants


async def claim_batch(
    uow_factory: UnitOfWorkFactory,
    job_ids: list[str],
    *,
    clock: Clock,
    policy: RetryPolicy,
    low_credit_threshold: int,
) -> tuple[dict[str, GenerationJob], list[tuple[GenerationJob, list[Notification]]]]:
    """One unit of work for a batch: hold the claimable jobs and their owners' balances,
    decide each job as the domain says (claim and charge, or fail and refund), then write
    the ledger entries, the jobs and the notifications with one statement each.

    Held rows cannot change under it, so no compare-and-set is needed and every decision
    stands at commit. A job that another transaction is writing is skipped, not waited for:
    that one (another worker's claim, an attempt's finish or fault, the reaper, a cancel)
    moves it on and enqueues it again if it needs another attempt; the reaper covers the
    rest. Safe to run again: it starts from a fresh read, and a job claimed by an earlier try
    that committed is RUNNING under a live lease, which this one leaves alone."""
    now = clock.now()
    lease_until = now + timedelta(seconds=policy.lease_seconds)
    changed: list[GenerationJob] = []
    entries: list[LedgerEntry] = []
    notes: dict[str, list[Notification]] = {}
    async with uow_factory() as uow:
        jobs = await uow.jobs.hold_claimable(job_ids, now)
        if not jobs:
            return {}, []
        balances = await uow.ledger.hold_balances({job.user_id for job in jobs})
        for job in jobs:
            changed.append(job)
            failure: str | None = None
            if job.attempts >= policy.max_attempts:
                failure = job.error_code or JobErrorCode.GENERATION_FAILED
            else:
                job.claim(now, lease_until)
                try:
                    entry = job.charge(
                        entry_id=new_id(), balance=balances.get(job.user_id, 0), now=now
                    )
                except InsufficientCredits:
                    failure = JobErrorCode.INSUFFICIENT_CREDITS
                else:
                    if entry is not None:
                        entries.append(entry)
                        balances[job.user_id] = balances.get(job.user_id, 0) + entry.delta
            if failure is not None:
                refund, notice = fail_job(job, failure, now)
                if refund is not None:
                    entries.append(refund)
                    balances[job.user_id] = balances.get(job.user_id, 0) + refund.delta
                notes[job.id] = [notice]
                continue
            warning = low_credits(
                job,
                balance=balances.get(job.user_id, 0),
                threshold=low_credit_threshold,
                notification_id=new_id(),
                now=now,
            )
            if warning is not None:
                notes[job.id] = [warning]
        await uow.ledger.append_many(entries)
        await uow.jobs.save_held(changed)
        added = await uow.notifications.add_many([n for ns in notes.values() for n in ns])
        await uow.commit()
    announcements = [(job, [n for n in notes.get(job.id, []) if n.id in added]) for job in changed]
    return {j.id: j for j in changed if j.status is JobStatus.RUNNING}, announcements


async def record_successes(
    uow_factory: UnitOfWorkFactory, successes: list[Success]
) -> list[tuple[bool, bool, GenerationJob | None]]:
    """Per success: (held, notification added, the stored job when not held).

    One unit of work for the batch: it holds the jobs, so whether each attempt still holds
    its job (RUNNING, same attempt) is decided on rows nobody else can change before the
    commit; then the held jobs, their generations and notifications are written with one
    statement each."""
    async with uow_factory() as uow:
        stored = {job.id: job for job in await uow.jobs.hold([s.done.id for s in successes])}
        holds = [
            (current := stored.get(s.done.id)) is not None and current.holds(s.attempt)
            for s in successes
        ]
        held = [s for s, holding in zip(successes, holds, strict=True) if holding]
        added: set[str] = set()
        if held:
            await uow.jobs.save_held([s.done for s in held])
            await uow.generations.add_many([g for s in held for g in (s.generation, *s.others)])
            added = await uow.notifications.add_many([s.notification for s in held])
            await uow.commit()
    return [
        (True, s.notification.id in added, None)
        if holding
        else (False, False, stored.get(s.done.id))
        for s, holding in zip(successes, holds, strict=True)
    ]


async def record_fault(
    uow_factory: UnitOfWorkFactory,
    job: GenerationJob,
    fault: GenerationFault,
    *,
    now: datetime,
    policy: RetryPolicy,
    usage: JobUsage | None = None,
) -> tuple[GenerationJob, float | None, list[Notification]] | None:
    """Requeue (transient, attempts left) or fail and refund, in one transaction, recording the
    attempt's model `usage` on the job (it adds to what earlier attempts used); None when
    this attempt no longer holds the job. Safe to run again: it starts from a fresh read,
    saves with a compare-and-set, and a refund is once per job in the ledger; a rerun after
    its own commit recognises it (same attempt, same fault, stamped `now`)."""
    notifications: list[Notification] = []
    delay: float | None = None
    async with uow_factory() as uow:
        current = await uow.jobs.get(job.id)
        if current is None:
            return None
        if not current.holds(job.attempts):
            if (
                current.attempts == job.attempts
                and current.updated_at == now
                and current.error_code == fault.code
                and current.status in (JobStatus.QUEUED, JobStatus.FAILED)
            ):
                # An earlier try of this very transaction committed; only its answer was
                # lost. Finish the hand-back it started (its notification is stored).
                if current.status is JobStatus.QUEUED:
                    delay = policy.delay(current.attempts, fault.retry_after)
                return current, delay, []
            return None
        if usage is not None:
            current.record_usage(usage)
        # An unusable answer (from the model or the sanitizer) is worth only a few more model calls.
        give_up_on_svg = (
            fault.code == JobErrorCode.INVALID_SVG
            and current.attempts >= policy.invalid_svg_attempts
        )
        if fault.transient and not give_up_on_svg and current.attempts < policy.max_attempts:
            current.requeue(fault.code, now)
            delay = policy.delay(current.attempts, fault.retry_after)
        else:
            notifications = await fail_in(uow, current, fault.code, now)
        if not await uow.jobs.save(
            current, expected_status=JobStatus.RUNNING, expected_attempts=job.attempts
        ):
            return None
        await uow.commit()
    return current, delay, notifications


async def fail_in(
    uow: UnitOfWork, job: GenerationJob, code: str, now: datetime
) -> list[Notification]:
    """Fail the job inside the caller's transaction, refunding once if it was charged."""
    refund, notification = fail_job(job, code, now)
    if refund is not None:
        # The ledger's unique (job, reason) key makes a second refund impossible even if this runs twice.
        await uow.ledger.append(refund)
    return [notification] if await uow.notifications.add(notification) else []


def fail_job(
    job: GenerationJob, code: str, now: datetime
) -> tuple[LedgerEntry | None, Notification]:
    """Fail the job: the refund it is owed (if it was charged), and the owner's notice."""
    refund = job.fail_and_refund(code, now, refund_id=new_id())
    return refund, job_failed(job, notification_id=new_id(), now=now)
