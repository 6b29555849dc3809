"""Operator use cases: accounts, credits as ledger entries, stuck jobs, sessions, orphaned artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from chatsvg.application.accounts.auth import AuthService
from chatsvg.application.generation.events import job_update
from chatsvg.application.generation.tasks import GENERATE
from chatsvg.application.ids import new_id
from chatsvg.application.ports import (
    Clock,
    PasswordHasher,
    RealtimePublisher,
    TaskQueue,
    UnitOfWorkFactory,
)
from chatsvg.domain.accounts.users import User, check_password, normalise_email, normalise_name
from chatsvg.domain.credits.ledger import adjustment_entry
from chatsvg.domain.errors import InsufficientCredits, NotFound, ValidationFailed
from chatsvg.domain.generation.jobs import GenerationJob, JobStatus


@dataclass(frozen=True)
class StuckJob:
    job: GenerationJob
    reason: str


class AdminService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        auth: AuthService,
        hasher: PasswordHasher,
        queue: TaskQueue,
        realtime: RealtimePublisher,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._auth = auth
        self._hasher = hasher
        self._queue = queue
        self._realtime = realtime
        self._clock = clock

    async def _user(self, email: str) -> User:
        async with self._uow() as uow:
            user = await uow.users.by_email(normalise_email(email))
        if user is None:
            raise NotFound(f"No user with email {email}.")
        return user

    async def create_user(self, *, email: str, password: str, name: str) -> User:
        now = self._clock.now()
        user = User.open(
            user_id=new_id(),
            email=normalise_email(email),
            name=normalise_name(name),
            password_hash=await self._hasher.hash(check_password(password)),
            now=now,
        )
        async with self._uow() as uow:
            await self._auth.create_user(uow, user, now)
            await uow.commit()
        return user

    async def adjust_credits(self, *, email: str, delta: int) -> int:
        """Grant (delta > 0) or revoke (delta < 0) credits as one ledger entry; returns the new balance."""
        user = await self._user(email)
        entry = adjustment_entry(
            entry_id=new_id(), user_id=user.id, delta=delta, now=self._clock.now()
        )
        async with self._uow() as uow:
            try:
                await uow.ledger.append(entry)
            except InsufficientCredits:
                raise ValidationFailed("The balance cannot go below zero.") from None
            balance = await uow.ledger.balance(user.id)
            await uow.commit()
        return balance

    async def stuck_jobs(self, *, older_than: timedelta) -> list[StuckJob]:
        now = self._clock.now()
        async with self._uow() as uow:
            jobs = await uow.jobs.needing_attention(now, now - older_than, 1000)
        return [
            StuckJob(
                j,
                "lease expired"
                if j.status is JobStatus.RUNNING
                else f"queued since {j.updated_at:%H:%M:%S}",
            )
            for j in jobs
        ]

    async def requeue(self, job_id: str) -> GenerationJob:
        """Hand a stuck job back to the queue (a RUNNING one only once its lease has expired)."""
        now = self._clock.now()
        async with self._uow() as uow:
            job = await uow.jobs.get(job_id)
            if job is None:
                raise NotFound("Job not found.")
            before = (job.status, job.attempts)
            if job.status.terminal:
                raise ValidationFailed(
                    f"The job is {job.status.value}; only unfinished jobs can be requeued."
                )
            if not job.claimable(now):
                raise ValidationFailed(
                    "The job is held by a live worker; wait for its lease to expire."
                )
            was_running = job.hand_back(now)
            await uow.jobs.save(job, expected_status=before[0], expected_attempts=before[1])
            await uow.commit()
        if was_running:
            await self._realtime.job_updated(job.user_id, job_update(job))
            await self._realtime.flush()
        await self._queue.enqueue(GENERATE, job.id)
        return job

    async def revoke_sessions(self, *, email: str) -> int:
        user = await self._user(email)
        async with self._uow() as uow:
            revoked = await uow.sessions.revoke_all(user.id, self._clock.now())
            await uow.commit()
        await self._realtime.session_revoked(revoked)
        return len(revoked)

    async def orphaned_keys(self, stored_keys: list[str]) -> list[str]:
        """Stored artifacts that no generation refers to (left by a crash between storage and commit)."""
        async with self._uow() as uow:
            known = set(await uow.generations.all_keys())
            orphans = []
            for key in stored_keys:
                if key in known:
                    continue
                # A key of a job still in flight is not an orphan yet.
                job_id = key.rsplit("/", 1)[-1].removesuffix(".svg")
                job = await uow.jobs.get(job_id)
                if job is None or job.status.terminal:
                    orphans.append(key)
        return orphans
