"""Submitting prompts and following the jobs they become."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from chatsvg.application.generation.artifacts import discard_artifacts
from chatsvg.application.generation.events import job_update
from chatsvg.application.generation.refinement import inherit_from, refined_generation
from chatsvg.application.generation.tasks import GENERATE
from chatsvg.application.ids import new_id
from chatsvg.application.pagination import Page, check_limit, decode_cursor, paginate
from chatsvg.application.plans import enforce_generation_quota
from chatsvg.application.ports import (
    Clock,
    DuplicateIdempotencyKey,
    ObjectStorage,
    RateLimiter,
    RealtimePublisher,
    TaskQueue,
    UnitOfWorkFactory,
)
from chatsvg.domain.credits.ledger import can_afford
from chatsvg.domain.credits.plans import PlanCatalogue, QuotaExceeded
from chatsvg.domain.errors import (
    IdempotencyKeyReused,
    InsufficientCredits,
    JobNotCancellable,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from chatsvg.domain.generation.generations import SvgGeneration
from chatsvg.domain.generation.jobs import GenerationJob, JobSource, JobStatus
from chatsvg.domain.generation.requests import (
    Catalogue,
    ModelSpec,
    check_idempotency_key,
    normalise_prompt,
    request_fingerprint,
)
from chatsvg.domain.generation.variants import check_variants, normalise_instruction

log = logging.getLogger(__name__)

REPLAY_WINDOW = timedelta(minutes=2)
REPLAY_LIMIT = 100


@dataclass(frozen=True)
class SubmitCommand:
    user_id: str
    prompt: str
    style: str | None
    model: str | None
    privacy: bool | None
    raw_body: Any
    idempotency_key: str | None = None
    # Where the job comes from and the API key behind it; a test key's job (`free`) runs on the
    # offline model and costs nothing.
    source: JobSource = JobSource.WEB_APP
    api_key_id: str | None = None
    free: bool = False
    n: int | None = None  # drawings, 1 to 4 (1 when not given), made and charged as one job
    parent_id: str | None = None  # refine this generation; `prompt` is then the instruction


@dataclass(frozen=True)
class Submitted:
    job: GenerationJob
    duplicate: bool


@dataclass(frozen=True)
class JobDetails:
    job: GenerationJob
    generation: SvgGeneration | None
    svg: str | None
    credits: int
    drawings: list[SvgGeneration] = field(default_factory=list)  # every variant, in order


def _insufficient(cost: int, balance: int, pending: int) -> InsufficientCredits:
    return InsufficientCredits(
        f"This generation costs {cost} credit(s); you have {balance}"
        + (f", with {pending} already reserved by queued jobs." if pending else ".")
    )


class GenerationService:
    """The API side of generation: submit, read, list and cancel jobs."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        queue: TaskQueue,
        storage: ObjectStorage,
        realtime: RealtimePublisher,
        clock: Clock,
        catalogue: Catalogue,
        limiter: RateLimiter,
        daily_quota: int = 0,
        plans: PlanCatalogue | None = None,
    ) -> None:
        self._uow = uow
        self._queue = queue
        self._storage = storage
        self._realtime = realtime
        self._clock = clock
        self.catalogue = catalogue
        self._limiter = limiter
        self._daily_quota = daily_quota
        self._plans = plans  # the per-window generation quota of each plan

    async def submit(self, command: SubmitCommand) -> Submitted:
        key = check_idempotency_key(command.idempotency_key)
        fingerprint = request_fingerprint(command.raw_body) if key else None
        if key:
            async with self._uow() as uow:
                existing = await uow.jobs.by_idempotency_key(command.user_id, key)
            if existing is not None:
                return self._replay(existing, fingerprint)

        variants = check_variants(command.n)
        parent = await refined_generation(self._uow, command.user_id, command.parent_id)
        if parent is not None:
            prompt = normalise_instruction(command.prompt)
            command = inherit_from(parent, command, self.catalogue)
        else:
            prompt = normalise_prompt(command.prompt)
        style = self.catalogue.style(command.style)
        model = self.catalogue.model(command.model)
        if command.free:
            model = ModelSpec("offline", "offline", 0)
        privacy = True if command.privacy is None else command.privacy
        if not isinstance(privacy, bool):
            raise ValidationFailed(
                "privacy must be true or false.",
                details=[{"field": "privacy", "message": "boolean"}],
            )

        if self._daily_quota:
            day = self._clock.now().strftime("%Y-%m-%d")
            quota = await self._limiter.hit("daily-quota", f"{command.user_id}|{day}")
            if not quota.allowed:
                raise RateLimited(
                    "You have reached today's generation quota.",
                    retry_after=quota.retry_after,
                    limit=quota.limit,
                    reset_at=quota.reset_at,
                )

        now = self._clock.now()
        job = GenerationJob.submit(
            job_id=new_id(),
            user_id=command.user_id,
            prompt=prompt,
            style=style,
            model=model,
            privacy=privacy,
            now=now,
            idempotency_key=key,
            fingerprint=fingerprint,
            source=command.source,
            api_key_id=command.api_key_id,
            variants=variants,
            parent_id=command.parent_id,
        )
        try:
            async with self._uow() as uow:
                try:
                    await enforce_generation_quota(
                        uow, self._plans, command.user_id, now, job.variants
                    )
                except QuotaExceeded:
                    # Credits are checked first: a user who cannot pay is told that.
                    balance, pending = await uow.ledger.balance_and_reserved(command.user_id)
                    if not can_afford(balance, pending, job.cost):
                        raise _insufficient(job.cost, balance, pending) from None
                    raise
                # The credit check, the idempotency key and the insert: one statement.
                refused = await uow.jobs.add_affordable_and_commit(job)
                if refused is not None:
                    raise _insufficient(job.cost, *refused)
        except DuplicateIdempotencyKey:
            # A concurrent request with the same key won the insert: answer with its job.
            async with self._uow() as uow:
                existing = await uow.jobs.by_idempotency_key(command.user_id, key or "")
            if existing is None:  # pragma: no cover - the winner's row must exist
                raise
            return self._replay(existing, fingerprint)

        await self._realtime.job_updated(job.user_id, job_update(job))
        try:
            await self._realtime.flush()  # QUEUED reaches clients before the worker's RUNNING
            await self._queue.enqueue(GENERATE, job.id)
        except Exception:
            # The job is recorded; the reaper re-enqueues QUEUED jobs that no worker picked up.
            log.exception(
                "enqueue failed; the reaper will pick the job up", extra={"job_id": job.id}
            )
        return Submitted(job, duplicate=False)

    def _replay(self, existing: GenerationJob, fingerprint: str | None) -> Submitted:
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        return Submitted(existing, duplicate=True)

    async def live_updates(self, user_id: str) -> list[dict[str, Any]]:
        """What a socket that has just connected is told: the latest update of each of the
        user's jobs that is unfinished or finished within `REPLAY_WINDOW`, oldest first. A job
        that finished before the client's socket was up is shown this way instead of being missed.
        """
        since = self._clock.now() - REPLAY_WINDOW
        async with self._uow() as uow:
            jobs = await uow.jobs.live_for_user(user_id, finished_since=since, limit=REPLAY_LIMIT)
        return [job_update(job) for job in reversed(jobs)]

    async def details(self, user_id: str, job_id: str) -> JobDetails:
        async with self._uow() as uow:
            job = await uow.jobs.get(job_id)
            if job is None or job.user_id != user_id:
                raise NotFound("Job not found.")
            generation = await uow.generations.get(job.generation_id) if job.generation_id else None
            drawings = await uow.generations.for_jobs([job.id]) if job.variants > 1 else []
            balance = await uow.ledger.balance(user_id)
        svg = None
        if generation is not None:
            data = await self._storage.get(generation.storage_key)
            svg = data.decode("utf-8") if data is not None else None
        return JobDetails(job, generation, svg, balance, drawings)

    async def list_jobs(
        self, user_id: str, *, status: str | None, limit: int | None, cursor: str | None
    ) -> Page[tuple[GenerationJob, SvgGeneration | None]]:
        """The user's jobs, newest first, each with its generation (if it has one)."""
        size = check_limit(limit)
        wanted: JobStatus | None = None
        if status:
            try:
                wanted = JobStatus(status.upper())
            except ValueError:
                raise ValidationFailed(
                    "status must be QUEUED, RUNNING, SUCCEEDED or FAILED.",
                    details=[{"field": "status", "message": "unknown status"}],
                ) from None
        async with self._uow() as uow:
            rows = await uow.jobs.list_for_user(
                user_id, status=wanted, limit=size + 1, before=decode_cursor(cursor)
            )
            page = paginate(rows, size, lambda j: (j.created_at, j.id))
            found = await uow.generations.get_many(
                [j.generation_id for j in page.items if j.generation_id]
            )
        generations = {g.id: g for g in found}
        items = [(job, generations.get(job.generation_id or "")) for job in page.items]
        return Page(items, page.next_cursor)

    async def drawings(self, jobs: list[GenerationJob]) -> dict[str, list[SvgGeneration]]:
        """Every generation of the finished jobs among these that made several, by job id, in
        order (a job of one drawing has its `generation` only)."""
        wanted = [j.id for j in jobs if j.variants > 1 and j.generation_id]
        if not wanted:
            return {}
        async with self._uow() as uow:
            found = await uow.generations.for_jobs(wanted)
        by_job: dict[str, list[SvgGeneration]] = {}
        for drawing in found:
            by_job.setdefault(drawing.job_id, []).append(drawing)
        return by_job

    async def cancel(self, user_id: str, job_id: str) -> GenerationJob:
        now = self._clock.now()
        async with self._uow() as uow:
            job = await uow.jobs.get(job_id)
            if job is None or job.user_id != user_id:
                raise NotFound("Job not found.")
            before_status, before_attempts = job.status, job.attempts
            refund = job.cancel_and_refund(now, refund_id=new_id())
            if not await uow.jobs.save(
                job, expected_status=before_status, expected_attempts=before_attempts
            ):
                raise JobNotCancellable()
            if refund is not None:
                await uow.ledger.append(refund)
            await uow.commit()
        # An attempt interrupted after storing its files may have left some behind.
        await discard_artifacts(self._storage, job, "could not delete a cancelled job's artifact")
        await self._realtime.job_updated(user_id, job_update(job))
        return job
