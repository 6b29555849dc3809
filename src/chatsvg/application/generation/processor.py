"""The worker's use case: take one job from QUEUED to SUCCEEDED or FAILED (the reaper that
guarantees no job is left behind is in reaper.py).

Every step is written so that a crash between any two of them leaves a state that a later attempt
completes: the claim and the charge commit together; the artifact key is derived from the job, so
a retry overwrites instead of orphaning; the finish writes only a job whose (status, attempt) it
still holds, so a worker that lost its lease cannot finish a job another worker owns; charges and
refunds are unique per job in the ledger. Claims and finishes are made in batches, one
transaction for the attempts that ask at the same moment."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from chatsvg.application.generation.artifacts import discard_artifacts
from chatsvg.application.generation.batches import Batches
from chatsvg.application.generation.circuit import Permit, ProviderCircuit
from chatsvg.application.generation.drafts import DraftPublisher
from chatsvg.application.generation.drawing import draw_all, job_requests
from chatsvg.application.generation.events import job_update
from chatsvg.application.generation.refinement import previous_drawing
from chatsvg.application.generation.retry import RetryPolicy
from chatsvg.application.generation.transactions import (
    Success,
    claim_batch,
    record_fault,
    record_successes,
)
from chatsvg.application.generation.usage import UsageMeter
from chatsvg.application.ids import new_id
from chatsvg.application.notifications.events import notification_payload
from chatsvg.application.ports import (
    Clock,
    GalleryCache,
    GenerationFault,
    GenerationRequest,
    ModelAnswer,
    ObjectStorage,
    RealtimePublisher,
    SvgGenerator,
    SvgInspector,
    SvgSanitizer,
    UnitOfWork,
    UnitOfWorkFactory,
)
from chatsvg.domain.generation.generations import SvgGeneration, artifact_key
from chatsvg.domain.generation.jobs import GenerationJob, JobErrorCode, JobStatus
from chatsvg.domain.generation.requests import Catalogue
from chatsvg.domain.generation.usage import JobUsage, PriceTable
from chatsvg.domain.notifications.notifications import (
    Notification,
    job_succeeded,
)

PROVIDER_FAULTS = frozenset(
    {JobErrorCode.PROVIDER_UNAVAILABLE, JobErrorCode.PROVIDER_RATE_LIMITED, JobErrorCode.TIMED_OUT}
)

log = logging.getLogger(__name__)

T = TypeVar("T")


class JobProcessor:
    """Runs one job attempt. Returns the delay before the next attempt, or None when nothing is left to do."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        generator: SvgGenerator,
        sanitizer: SvgSanitizer,
        storage: ObjectStorage,
        realtime: RealtimePublisher,
        clock: Clock,
        catalogue: Catalogue,
        policy: RetryPolicy | None = None,
        low_credit_threshold: int = 2,
        circuit: ProviderCircuit | None = None,
        gallery: GalleryCache | None = None,
        claim_concurrency: int = 0,
        claim_batch: int = 64,
        finish_concurrency: int = 0,
        finish_batch: int = 64,
        prices: PriceTable | None = None,
        inspector: SvgInspector | None = None,
        repair: bool = True,
        drafts: bool = True,
    ) -> None:
        """Claims are made in batches: the attempts that ask to claim while a claim transaction
        is being prepared or is running are claimed together in the next one, up to
        `claim_batch` jobs per transaction, with set-based statements (a batch costs about as many
        round trips as one job did). `claim_concurrency` bounds how many claim transactions run at
        once (0: no bound). Successes are recorded in batches the same way (`finish_batch`,
        `finish_concurrency`).

        A worker keeps thousands of attempts in flight, but they share a small database pool whose
        waiters are served first come, first served. Unbounded, a burst of new attempts queues its
        claims ahead of the attempts that already have the model's answer and only need to record
        it, so nothing finishes while the burst lasts. With the bound, new claims take at most that
        many connections and finishing attempts never wait behind more than that many claims.
        """
        self._uow = uow
        self._generator = generator
        self._sanitizer = sanitizer
        self._storage = storage
        self._realtime = realtime
        self._clock = clock
        self._catalogue = catalogue
        self.policy = policy or RetryPolicy()
        self._low_credit_threshold = low_credit_threshold
        self.circuit = circuit or ProviderCircuit(clock)
        self._gallery = gallery
        self._prices = prices or PriceTable()  # USD per million tokens, for the jobs' usage
        # After sanitizing, whether a drawing is a usable picture; an unusable one is asked for
        # once more within the attempt, with the problem named (`repair`).
        self._inspector = inspector
        self._repair = repair
        self._drafts = drafts  # push the drawing as a streaming model writes it
        self._claims: Batches[str, GenerationJob | None] = Batches(
            self._claim_and_announce, limit=claim_concurrency, size=claim_batch
        )
        self._successes: Batches[Success, tuple[bool, bool, GenerationJob | None]] = Batches(
            self._record_successes, limit=finish_concurrency, size=finish_batch
        )

    async def process(self, job_id: str) -> float | None:
        admitted = self.circuit.admit()
        if not isinstance(admitted, Permit):
            return admitted + random.uniform(0, admitted / 2)  # spread the held jobs' wake-ups
        try:
            return await self._attempt(job_id, admitted)
        finally:
            # Whatever happened (not claimable, a database fault, a crash), the permit ends here;
            # a probe that gave no verdict gives its place to the next attempt.
            self.circuit.release(admitted)

    async def _attempt(self, job_id: str, permit: Permit) -> float | None:
        job = await self._claim(job_id)
        if job is None:
            return None
        meter = UsageMeter(self._prices)  # every model call of the attempt, even if it fails
        try:
            async with self._heartbeat(job):
                svgs = await self._produce(job, permit, meter)
                await self._storage_put(job, svgs)
        except GenerationFault as fault:
            return await self._fault(job, fault, meter.usage)
        except Exception as exc:
            # An unexpected bug or library error: retried, then failed and refunded.
            log.exception("job attempt crashed", extra={"job_id": job.id})
            return await self._fault(
                job,
                GenerationFault(JobErrorCode.GENERATION_FAILED, type(exc).__name__, transient=True),
                meter.usage,
            )
        await self._finish(job, svgs, meter)
        return None

    async def _retrying(self, step: str, job_id: str, run: Callable[[], Awaitable[T]]) -> T:
        """Run a transaction again after it failed. The steps that use this are safe to repeat:
        the claim and the fault start from a fresh read of the job and save with a
        compare-and-set, so one that did commit (only its answer was lost) finds the job changed
        and stands down; the finish writes a job only if the attempt still holds it; charges,
        refunds and notifications are once per job."""
        for pause in self.policy.transaction_retry_pauses:
            try:
                return await run()
            except Exception:
                log.warning(
                    "job transaction failed; trying again",
                    extra={"job_id": job_id, "step": step, "retry_in": pause},
                    exc_info=True,
                )
                await asyncio.sleep(pause)
        return await run()

    async def _claim(self, job_id: str) -> GenerationJob | None:
        """Take the job for this attempt: RUNNING, leased and charged, or None when there is
        nothing for it to do. Joins the next batch of claims."""
        return await self._claims.submit(job_id)

    async def _claim_and_announce(self, job_ids: list[str]) -> list[GenerationJob | None]:
        claimed, announcements = await self._retrying(
            "claim",
            job_ids[0],
            functools.partial(
                claim_batch,
                self._uow,
                job_ids,
                clock=self._clock,
                policy=self.policy,
                low_credit_threshold=self._low_credit_threshold,
            ),
        )
        # The owners hear of each change before the attempts go on to the model.
        results = await asyncio.gather(
            *(self._announce(job, notes) for job, notes in announcements),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, Exception):
                log.warning("could not announce a claim", exc_info=result)
        # A job asked for twice in one batch (a duplicate message) goes to one attempt.
        return [claimed.pop(job_id, None) for job_id in job_ids]

    async def _produce(self, job: GenerationJob, permit: Permit, meter: UsageMeter) -> list[str]:
        """The job's sanitized, usable drawings (one per variant); `meter` counts the calls."""
        spec = self._catalogue.model(job.model)
        previous = (
            await previous_drawing(self._uow, self._storage, job.parent_id)
            if job.parent_id
            else None
        )
        drafts = DraftPublisher(job, self._realtime, self._sanitizer) if self._drafts else None
        on_draft = drafts.feed if drafts is not None else None
        requests = job_requests(job, spec.provider_model, previous, on_draft)
        try:
            drawn = await draw_all(
                meter.metered(functools.partial(self._ask, permit)),
                requests,
                sanitizer=self._sanitizer,
                inspector=self._inspector,
                repair=self._repair,
            )
        finally:
            if drafts is not None:
                await drafts.close()
        await self._progress(job, 70)
        return [d.svg for d in drawn]

    async def _ask(self, permit: Permit, request: GenerationRequest) -> ModelAnswer:
        """One model call; its verdict on the provider's health goes to the circuit."""
        try:
            answer = await self._generator.generate(request)
        except GenerationFault as fault:
            if fault.code in PROVIDER_FAULTS:
                self.circuit.failed(permit)
            else:
                self.circuit.succeeded(permit)  # it answered: a refusal, an unusable answer
            raise
        self.circuit.succeeded(permit)
        return answer

    async def _storage_put(self, job: GenerationJob, svgs: list[str]) -> None:
        try:
            for variant, svg in enumerate(svgs):
                await self._storage.put(
                    artifact_key(job.user_id, job.id, variant), svg.encode("utf-8"), "image/svg+xml"
                )
        except Exception as exc:
            raise GenerationFault(
                JobErrorCode.STORAGE_UNAVAILABLE, str(exc)[:200], transient=True
            ) from exc

    async def _finish(self, job: GenerationJob, svgs: list[str], meter: UsageMeter) -> None:
        """Record the generation and mark the job SUCCEEDED, if this attempt still holds it.

        Recorded with the other successes of the moment in one transaction (`_record_batch`),
        which holds the jobs and writes only those whose attempt still holds them: everything
        that can change a held job (a cancel, the reaper, an admin requeue) changes its status or
        attempts. What it writes (this attempt's copy of the job) is what the stored row holds
        apart from the lease, which succeeding clears anyway."""
        now = self._clock.now()
        generation, *others = [
            SvgGeneration(
                id=new_id(),
                user_id=job.user_id,
                job_id=job.id,
                prompt=job.prompt,
                style=job.style,
                model=job.model,
                privacy=job.privacy,
                storage_key=artifact_key(job.user_id, job.id, variant),
                size_bytes=len(svg.encode("utf-8")),
                created_at=now,
                parent_id=job.parent_id,
                variant=variant,
            )
            for variant, svg in enumerate(svgs)
        ]
        done = copy.copy(job)
        meter.record_on(done)
        done.succeed(generation.id, now)
        notification = job_succeeded(job, generation.id, notification_id=new_id(), now=now)
        held, added, current = await self._successes.submit(
            Success(done, job.attempts, generation, notification, others)
        )
        if not held and current is not None and current.generation_id == generation.id:
            held = added = True  # a retry after our own commit, whose answer was lost
        if not held:
            # Another attempt owns the job now, or it has ended. Every attempt writes the same key,
            # so the file is removed only once the job has failed for good (or is gone); a live
            # attempt overwrites it.
            if current is None or current.status is JobStatus.FAILED:
                await self._discard_artifact(job)
            return
        log.info("job succeeded", extra={"job_id": done.id, "attempts": done.attempts})
        if generation.public and self._gallery:
            await self._gallery.invalidate()
        await self._announce(done, [notification] if added else [])

    async def _record_successes(
        self, successes: list[Success]
    ) -> list[tuple[bool, bool, GenerationJob | None]]:
        return await self._retrying(
            "finish",
            successes[0].done.id,
            functools.partial(record_successes, self._uow, successes),
        )

    async def _fault(
        self, job: GenerationJob, fault: GenerationFault, usage: JobUsage | None = None
    ) -> float | None:
        now = self._clock.now()
        recorded = await self._retrying(
            "fault",
            job.id,
            lambda: record_fault(self._uow, job, fault, now=now, policy=self.policy, usage=usage),
        )
        if recorded is None:
            return None  # another attempt or the reaper has taken over
        current, delay, notifications = recorded
        log.info(
            "job attempt failed" if delay is not None else "job failed",
            extra={
                "job_id": job.id,
                "code": fault.code,
                "transient": fault.transient,
                "retry_in": delay,
            },
        )
        await self._announce(current, notifications)
        if delay is not None:
            await self._realtime.flush()  # the caller enqueues the job again next
        return delay

    async def _still_ours(self, uow: UnitOfWork, job: GenerationJob) -> GenerationJob | None:
        """The job as stored, if this worker's attempt still holds it (else another worker or the
        reaper has taken over, and this attempt must not write)."""
        current = await uow.jobs.get(job.id)
        return current if current is not None and current.holds(job.attempts) else None

    async def _progress(self, job: GenerationJob, progress: int) -> None:
        """Tell the owner how far the attempt has got. Progress is pushed, not stored: the stored job
        changes only at its transitions (and lease renewals), which keeps the worker's database
        traffic at two transactions per job."""
        job.advance(progress, self._clock.now())
        await self._realtime.job_updated(job.user_id, job_update(job))

    @contextlib.asynccontextmanager
    async def _heartbeat(self, job: GenerationJob) -> AsyncIterator[None]:
        """Keep extending the lease while this attempt is alive, so only a dead worker's job is reclaimed."""

        async def beat() -> None:
            interval = self.policy.lease_seconds / 3
            while True:
                await asyncio.sleep(interval)
                now = self._clock.now()
                async with self._uow() as uow:
                    current = await self._still_ours(uow, job)
                    if current is None:
                        return
                    current.renew_lease(now, now + timedelta(seconds=self.policy.lease_seconds))
                    await uow.jobs.save(
                        current, expected_status=JobStatus.RUNNING, expected_attempts=job.attempts
                    )
                    await uow.commit()

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _discard_artifact(self, job: GenerationJob) -> None:
        """A failed job keeps no file."""
        await discard_artifacts(self._storage, job, "could not delete a failed job's artifact")

    async def _announce(self, job: GenerationJob, notifications: list[Notification]) -> None:
        if job.status is JobStatus.FAILED:
            await self._discard_artifact(job)  # an earlier attempt may have stored one
        await self._realtime.job_updated(job.user_id, job_update(job))
        for notification in notifications:
            await self._realtime.notification_created(
                job.user_id, notification_payload(notification)
            )
