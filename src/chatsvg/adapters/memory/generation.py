"""In-memory generation repositories: jobs and the stored generations."""

from __future__ import annotations

import copy
from datetime import datetime

from chatsvg.adapters.memory.repository import MemoryRepository, newest_first
from chatsvg.adapters.memory.tables import IntegrityViolation
from chatsvg.application.ports import DuplicateIdempotencyKey, Position
from chatsvg.domain.credits.ledger import can_afford
from chatsvg.domain.generation.generations import SvgGeneration
from chatsvg.domain.generation.jobs import GenerationJob, JobStatus


class MemoryJobs(MemoryRepository):
    async def add(self, job: GenerationJob) -> None:
        try:
            self._db.insert("generation_jobs", job)
        except IntegrityViolation:
            raise DuplicateIdempotencyKey(job.idempotency_key) from None

    async def add_affordable_and_commit(self, job: GenerationJob) -> tuple[int, int] | None:
        balance, reserved = await self._uow.ledger.balance_and_reserved(job.user_id)
        if not can_afford(balance, reserved, job.cost):
            return balance, reserved
        await self.add(job)
        await self._uow.commit()
        return None

    async def get(self, job_id: str) -> GenerationJob | None:
        job: GenerationJob | None = self._db.get("generation_jobs", job_id)
        return job

    async def hold_claimable(self, job_ids: list[str], now: datetime) -> list[GenerationJob]:
        # One unit of work at a time: every row it reads stays as read until it ends.
        return [job for job in await self.hold(job_ids) if job.claimable(now)]

    async def hold(self, job_ids: list[str]) -> list[GenerationJob]:
        found = [self._db.get("generation_jobs", job_id) for job_id in sorted(set(job_ids))]
        return [job for job in found if job is not None]

    async def save_held(self, jobs: list[GenerationJob]) -> None:
        for job in jobs:
            self._db.update("generation_jobs", job)

    async def by_idempotency_key(self, user_id: str, key: str) -> GenerationJob | None:
        jobs: list[GenerationJob] = [
            j
            for j in self._db.scan("generation_jobs")
            if j.user_id == user_id and j.idempotency_key == key
        ]
        return copy.copy(jobs[0]) if jobs else None

    async def save(
        self, job: GenerationJob, *, expected_status: JobStatus, expected_attempts: int
    ) -> bool:
        stored = await self.get(job.id)
        if (
            stored is None
            or stored.status is not expected_status
            or stored.attempts != expected_attempts
        ):
            return False
        return self._db.update("generation_jobs", job)

    async def list_for_user(
        self, user_id: str, *, status: JobStatus | None, limit: int, before: Position | None
    ) -> list[GenerationJob]:
        rows = (
            j
            for j in self._db.scan("generation_jobs")
            if j.user_id == user_id and (status is None or j.status is status)
        )
        return newest_first(rows, before, limit)

    async def needing_attention(
        self, now: datetime, queued_before: datetime, limit: int
    ) -> list[GenerationJob]:
        rows = [
            j for j in self._db.scan("generation_jobs") if j.needs_attention(now, queued_before)
        ]
        rows.sort(key=lambda j: j.updated_at)
        return [copy.copy(j) for j in rows[:limit]]

    async def live_for_user(
        self, user_id: str, *, finished_since: datetime, limit: int
    ) -> list[GenerationJob]:
        rows = [
            j
            for j in self._db.scan("generation_jobs")
            if j.user_id == user_id
            and (
                not j.status.terminal
                or (j.finished_at is not None and j.finished_at >= finished_since)
            )
        ]
        rows.sort(key=lambda j: (j.created_at, j.id), reverse=True)
        return [copy.copy(j) for j in rows[:limit]]


class MemoryGenerations(MemoryRepository):
    async def add(self, generation: SvgGeneration) -> None:
        self._db.insert("svg_generations", generation)

    async def add_many(self, generations: list[SvgGeneration]) -> None:
        for generation in generations:
            self._db.insert("svg_generations", generation)

    async def get(self, generation_id: str) -> SvgGeneration | None:
        generation: SvgGeneration | None = self._db.get("svg_generations", generation_id)
        return generation

    async def get_many(self, generation_ids: list[str]) -> list[SvgGeneration]:
        found = [self._db.get("svg_generations", i) for i in generation_ids]
        return [g for g in found if g is not None]

    async def for_jobs(self, job_ids: list[str]) -> list[SvgGeneration]:
        wanted = set(job_ids)
        rows = [g for g in self._db.scan("svg_generations") if g.job_id in wanted]
        rows.sort(key=lambda g: (g.job_id, g.variant))
        return [copy.copy(g) for g in rows]

    async def update(self, generation: SvgGeneration) -> None:
        self._db.update("svg_generations", generation, ("privacy",))  # the only column that changes

    async def delete(self, generation_id: str) -> None:
        self._db.delete("svg_generations", generation_id)

    async def list_for_user(
        self,
        user_id: str,
        *,
        limit: int,
        before: Position | None,
        style: str | None = None,
        model: str | None = None,
        privacy: bool | None = None,
    ) -> list[SvgGeneration]:
        rows = (
            g
            for g in self._db.scan("svg_generations")
            if g.user_id == user_id
            and (not style or g.style == style)
            and (not model or g.model == model)
            and (privacy is None or g.privacy is privacy)
        )
        return newest_first(rows, before, limit)

    async def list_public(
        self,
        *,
        limit: int,
        before: Position | None,
        style: str | None = None,
        model: str | None = None,
    ) -> list[SvgGeneration]:
        rows = (
            g
            for g in self._db.scan("svg_generations")
            if not g.privacy and (not style or g.style == style) and (not model or g.model == model)
        )
        return newest_first(rows, before, limit)

    async def keys_for_user(self, user_id: str) -> list[str]:
        return [g.storage_key for g in self._db.scan("svg_generations") if g.user_id == user_id]

    async def all_keys(self) -> list[str]:
        return [g.storage_key for g in self._db.scan("svg_generations")]
