"""The job update pushed to the owner's sockets (`generation-job:update`). Its shape is part of
the realtime contract; its fields carry the same values as the job's HTTP answer (the `Job`
schema), which tests/unit/test_wire.py checks. Notifications: application/notifications/events.py."""

from __future__ import annotations

from typing import Any

from chatsvg.domain.generation.jobs import GenerationJob


def job_update(job: GenerationJob) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "jobId": job.id,
        "status": job.status.value,
        "progress": job.progress,
        # Realtime delivery orders a job's updates by this (adapters/realtime/sockets.py); clients may too.
        "seq": job.revision,
    }
    if job.generation_id:
        payload["generationId"] = job.generation_id
    if job.error_code:
        payload["errorCode"] = job.error_code
        payload["errorMessage"] = job.error_message
    return payload
