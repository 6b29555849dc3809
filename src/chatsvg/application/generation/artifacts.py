"""Removing the files a job's attempts stored, for a job that will keep none (cancelled, failed)."""

from __future__ import annotations

import logging

from chatsvg.application.ports import ObjectStorage
from chatsvg.domain.generation.generations import artifact_keys
from chatsvg.domain.generation.jobs import GenerationJob

log = logging.getLogger(__name__)


async def discard_artifacts(storage: ObjectStorage, job: GenerationJob, failure: str) -> None:
    """Best effort: delete every artifact the job may have stored; a failure is logged as
    `failure`, never raised (`chatsvg admin gc` sweeps what this misses)."""
    try:
        for key in artifact_keys(job.user_id, job.id, job.variants):
            await storage.delete(key)
    except Exception:
        log.warning(failure, extra={"job_id": job.id}, exc_info=True)
