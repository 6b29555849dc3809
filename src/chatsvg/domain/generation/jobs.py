"""GenerationJob: an explicit state machine from a submitted prompt to a stored SVG.

    QUEUED ──claim──▶ RUNNING ──succeed──▶ SUCCEEDED
      ▲  │               │
      │  └──cancel──▶ FAILED ◀──fail──┘
      └──requeue (transient fault, retries left)──┘

A cancelled job is FAILED with error code CANCELED. `attempts` counts claims and doubles as a
fencing token: a worker may only finish the attempt it claimed. A RUNNING job is held under a
lease that its attempt keeps renewing; once the lease has run out, the job is claimable again and
the reaper (or an operator) hands it back to the queue. Charges and refunds are ledger entries
made here, with the transitions that owe them, so each happens at most once per job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chatsvg.domain.credits.ledger import LedgerEntry, charge_entry, refund_entry
from chatsvg.domain.errors import IllegalTransition, JobNotCancellable
from chatsvg.domain.generation.requests import ModelSpec
from chatsvg.domain.generation.usage import JobUsage


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class JobSource(StrEnum):
    """Where a job was submitted from: the web app (and playground), the public /v1 API, or MCP."""

    WEB_APP = "WEB_APP"
    API = "API"
    MCP = "MCP"


class JobErrorCode(StrEnum):
    INSUFFICIENT_CREDITS = "INSUFFICIENT_CREDITS"
    PROVIDER_RATE_LIMITED = "PROVIDER_RATE_LIMITED"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    PROVIDER_REFUSED = "PROVIDER_REFUSED"
    INVALID_SVG = "INVALID_SVG"
    STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"
    GENERATION_FAILED = "GENERATION_FAILED"
    TIMED_OUT = "TIMED_OUT"
    CANCELED = "CANCELED"


ERROR_MESSAGES: dict[str, str] = {
    JobErrorCode.INSUFFICIENT_CREDITS: "You do not have enough credits for this generation.",
    JobErrorCode.PROVIDER_RATE_LIMITED: "The model is busy right now. Please try again in a minute.",
    JobErrorCode.PROVIDER_UNAVAILABLE: "The model could not be reached. Please try again later.",
    JobErrorCode.PROVIDER_REFUSED: "The model declined this prompt. Try rephrasing it.",
    JobErrorCode.INVALID_SVG: "The model did not return a usable SVG. Please try again.",
    JobErrorCode.STORAGE_UNAVAILABLE: "The result could not be stored. Please try again later.",
    JobErrorCode.GENERATION_FAILED: "The generation failed. Please try again.",
    JobErrorCode.TIMED_OUT: "The generation took too long and was stopped.",
    JobErrorCode.CANCELED: "The job was cancelled.",
}


@dataclass
class GenerationJob:
    id: str
    user_id: str
    prompt: str
    style: str
    model: str
    privacy: bool
    cost: int
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    progress: int = 0
    usage: JobUsage | None = (
        None  # the model calls' record (tokens, latency, cost); None before any
    )
    attempts: int = 0
    charged: bool = False
    refunded: bool = False
    error_code: str | None = None
    error_message: str | None = None
    generation_id: str | None = None
    idempotency_key: str | None = None
    request_fingerprint: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    lease_expires_at: datetime | None = None
    variants: int = 1  # drawings this job makes (n); `cost` covers them all
    parent_id: str | None = None  # the generation a refinement changes
    source: JobSource = JobSource.WEB_APP
    api_key_id: str | None = None  # the API key that submitted it, if any

    @classmethod
    def submit(
        cls,
        *,
        job_id: str,
        user_id: str,
        prompt: str,
        style: str,
        model: ModelSpec,
        privacy: bool,
        now: datetime,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        variants: int = 1,
        parent_id: str | None = None,
        source: JobSource = JobSource.WEB_APP,
        api_key_id: str | None = None,
    ) -> GenerationJob:
        return cls(
            id=job_id,
            user_id=user_id,
            prompt=prompt,
            style=style,
            model=model.name,
            privacy=privacy,
            cost=model.cost * variants,  # n drawings, charged and refunded as one
            status=JobStatus.QUEUED,
            created_at=now,
            updated_at=now,
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint,
            variants=variants,
            parent_id=parent_id,
            source=source,
            api_key_id=api_key_id,
        )

    def _require(self, *allowed: JobStatus, action: str) -> None:
        if self.status not in allowed:
            raise IllegalTransition(f"Cannot {action} a {self.status.value} job.")

    def claimable(self, now: datetime) -> bool:
        """QUEUED, or RUNNING with its lease run out (its worker is gone)."""
        if self.status is JobStatus.RUNNING:
            return self.lease_expires_at is None or self.lease_expires_at <= now
        return self.status is JobStatus.QUEUED

    def claim(self, now: datetime, lease_until: datetime) -> None:
        """A worker takes the job. A RUNNING job may be re-claimed only once its lease has run out."""
        if not self.claimable(now):
            if self.status is JobStatus.RUNNING:
                raise IllegalTransition("This job is held by another worker.")
            self._require(JobStatus.QUEUED, action="claim")
        self.status = JobStatus.RUNNING
        self.attempts += 1
        self.progress = 10
        self.started_at = self.started_at or now
        self.lease_expires_at = lease_until
        self.updated_at = now

    def renew_lease(self, now: datetime, until: datetime) -> None:
        """The attempt holding the job is alive: its lease now runs until `until`."""
        self._require(JobStatus.RUNNING, action="renew the lease of")
        self.lease_expires_at = until
        self.updated_at = now

    def needs_attention(self, now: datetime, queued_before: datetime) -> bool:
        """Nobody is working on it: RUNNING under a lease that has run out (its worker is gone),
        or QUEUED and untouched since `queued_before` (its message was lost)."""
        if self.status is JobStatus.RUNNING:
            return self.lease_expires_at is not None and self.lease_expires_at <= now
        return self.status is JobStatus.QUEUED and self.updated_at <= queued_before

    def hand_back(self, now: datetime) -> bool:
        """Put a job nobody is working on back in line (the reaper, an operator): a RUNNING job
        whose lease has run out is requeued as TIMED_OUT, a QUEUED one is stamped `now`, so it
        counts as waiting from now on. Returns whether it was RUNNING (a change its owner sees).

        Refused for a job a live lease holds and for a finished job."""
        if not self.claimable(now):
            if self.status is JobStatus.RUNNING:
                raise IllegalTransition("This job is held by a live worker.")
            self._require(JobStatus.QUEUED, action="hand back")
        if self.status is JobStatus.RUNNING:
            self.requeue(JobErrorCode.TIMED_OUT, now)
            return True
        self.updated_at = now
        return False

    @property
    def revision(self) -> int:
        """Orders the job's observable states: every change a client can see has a higher
        revision than the ones before it, whichever process made it.

        Within attempt n the job is RUNNING (rising progress), then back in the queue or
        finished; the next claim starts attempt n + 1. A state a client has seen must never be
        followed by a lower one (a late push from a worker that lost its lease, or pushes of two
        processes crossing on their way), so the revision is what realtime delivery orders by.
        """
        if self.status is JobStatus.RUNNING:
            phase = self.progress  # 0-99 while running
        elif self.status is JobStatus.QUEUED:
            phase = 100
        else:
            phase = 200
        return self.attempts * 1000 + phase

    def holds(self, attempt: int) -> bool:
        """Whether the given attempt still owns this job (the fencing check before any write)."""
        return self.status is JobStatus.RUNNING and self.attempts == attempt

    def needs_charge(self) -> bool:
        return not self.charged

    def mark_charged(self) -> None:
        if self.charged:
            raise IllegalTransition("A job is charged at most once.")
        self.charged = True

    def charge(self, *, entry_id: str, balance: int, now: datetime) -> LedgerEntry | None:
        """The ledger debit for this job, marked as made; None when it was charged already (a
        re-claimed job keeps its first charge). Raises InsufficientCredits when `balance` cannot
        cover the cost, leaving the job uncharged. A job that costs nothing (an API test key's)
        writes no entry."""
        if not self.needs_charge() or self.cost == 0:
            return None
        entry = charge_entry(
            entry_id=entry_id,
            user_id=self.user_id,
            job_id=self.id,
            cost=self.cost,
            balance=balance,
            now=now,
        )
        self.mark_charged()
        return entry

    def advance(self, progress: int, now: datetime) -> None:
        """The running attempt has got this far (progress never goes back, and stays below 100
        until the job succeeds)."""
        self._require(JobStatus.RUNNING, action="advance")
        self.progress = max(self.progress, min(99, progress))
        self.updated_at = now

    def succeed(self, generation_id: str, now: datetime) -> None:
        self._require(JobStatus.RUNNING, action="finish")
        self.status = JobStatus.SUCCEEDED
        self.progress = 100
        self.generation_id = generation_id
        self.finished_at = now
        self.lease_expires_at = None
        self.error_code = None
        self.error_message = None
        self.updated_at = now

    def requeue(self, code: str, now: datetime) -> None:
        """A transient fault: back to the queue, keeping any charge; the last error stays visible."""
        self._require(JobStatus.RUNNING, action="requeue")
        self.status = JobStatus.QUEUED
        self.progress = 0
        self.lease_expires_at = None
        self.error_code = code
        self.error_message = ERROR_MESSAGES.get(code)
        self.updated_at = now

    def fail(self, code: str, now: datetime, message: str | None = None) -> bool:
        """End the job FAILED. Returns True when a refund is now owed (charged and not yet refunded)."""
        self._require(JobStatus.QUEUED, JobStatus.RUNNING, action="fail")
        self.status = JobStatus.FAILED
        self.error_code = code
        self.error_message = message or ERROR_MESSAGES.get(
            code, ERROR_MESSAGES[JobErrorCode.GENERATION_FAILED]
        )
        self.finished_at = now
        self.lease_expires_at = None
        self.updated_at = now
        return self.charged and not self.refunded

    def fail_and_refund(
        self, code: str, now: datetime, *, refund_id: str, message: str | None = None
    ) -> LedgerEntry | None:
        """End the job FAILED and settle its credits: the refund entry it is owed (it was charged
        and not yet refunded), marked as made; None when nothing is owed."""
        if not self.fail(code, now, message):
            return None
        return self._refund(refund_id, now)

    def cancel(self, now: datetime) -> bool:
        if self.status is not JobStatus.QUEUED:
            raise JobNotCancellable()
        return self.fail(JobErrorCode.CANCELED, now)

    def cancel_and_refund(self, now: datetime, *, refund_id: str) -> LedgerEntry | None:
        """The owner withdraws a QUEUED job: FAILED as CANCELED, and the refund it is owed (a job
        handed back after a charge keeps it), marked as made; None when nothing is owed."""
        if not self.cancel(now):
            return None
        return self._refund(refund_id, now)

    def _refund(self, refund_id: str, now: datetime) -> LedgerEntry:
        self.mark_refunded()
        return refund_entry(
            entry_id=refund_id, user_id=self.user_id, job_id=self.id, cost=self.cost, now=now
        )

    def record_usage(self, usage: JobUsage) -> None:
        """A model answer of this job: its usage adds to the job's record."""
        self.usage = usage if self.usage is None else self.usage.plus(usage)

    def mark_refunded(self) -> None:
        if not self.charged or self.refunded:
            raise IllegalTransition("A job is refunded at most once, and only after a charge.")
        self.refunded = True
