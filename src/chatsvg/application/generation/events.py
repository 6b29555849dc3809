"""Payloads pushed to the owner's sockets. Their shape is part of the realtime contract."""

from __future__ import annotations

from typing import Any

from chatsvg.domain.generation.jobs import GenerationJob
from chatsvg.domain.notifications.notifications import Notification


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


def notification_payload(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "type": notification.type,
        "title": notification.title,
        "message": notification.message,
        "data": notification.data,
        "createdAt": notification.created_at.isoformat().replace("+00:00", "Z"),
        "readAt": None,
    }
