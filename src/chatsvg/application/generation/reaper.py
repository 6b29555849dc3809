"""The reaper: finds jobs nobody is working on (a dead worker's expired lease, a lost enqueue)
and hands them back, so that no job stays QUEUED or RUNNING forever."""

from __future__ import annotations

import logging
from datetime import timedelta

from chatsvg.application.generation.events import job_update
from chatsvg.application.generation.processor import JobProcessor
from chatsvg.application.generation.tasks import GENERATE
from chatsvg.application.ports import (
    Clock,
    RealtimePublisher,
    TaskQueue,
    UnitOfWorkFactory,
)
from chatsvg.domain.generation.jobs import GenerationJob

log = logging.getLogger(__name__)


class JobReaper:
    """Finds jobs nobody is working on (a dead worker's expired lease, a lost enqueue) and hands them back.

    Bound: a job is touched by a worker or the reaper at least every lease + sweep interval, and a job
    is failed (and refunded) once it has used `max_attempts` claims, so none stays open forever.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        queue: TaskQueue,
        realtime: RealtimePublisher,
        clock: Clock,
        processor: JobProcessor,
        batch: int = 200,
    ) -> None:
        self._uow = uow
        self._queue = queue
        self._realtime = realtime
        self._clock = clock
        self._processor = processor
        self._batch = batch

    async def sweep(self) -> int:
        now = self._clock.now()
        policy = self._processor.policy
        queued_before = now - timedelta(seconds=policy.stale_queued_seconds)
        async with self._uow() as uow:
            candidates = await uow.jobs.needing_attention(now, queued_before, self._batch)
        returned: list[GenerationJob] = []
        for job in candidates:
            async with self._uow() as uow:
                current = await uow.jobs.get(job.id)
                # Finished, or held by a live lease, since the candidates were read.
                if current is None or not current.claimable(now):
                    continue
                before = (current.status, current.attempts)
                was_running = current.hand_back(now)
                if not await uow.jobs.save(
                    current, expected_status=before[0], expected_attempts=before[1]
                ):
                    continue
                await uow.commit()
            if was_running:
                await self._realtime.job_updated(current.user_id, job_update(current))
            returned.append(current)
        if not returned:
            return 0
        # Every "queued again" push is on its way before any of these jobs is handed to the
        # queue (one wait for them all), so no worker's next update can overtake it.
        await self._realtime.flush()
        handed_back = 0
        for current in returned:
            try:
                await self._queue.enqueue(GENERATE, current.id)
                handed_back += 1
            except Exception:
                log.exception("reaper could not enqueue", extra={"job_id": current.id})
        return handed_back
