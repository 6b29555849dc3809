"""Notifications shown in the web client's bell: one per (job, type), whatever retries happen.

What each notification says is decided here, so every use case (and every process) tells the
same story: the functions below build them from the facts they are about."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from chatsvg.domain.generation.jobs import GenerationJob

EXCERPT_MAX = 80


class NotificationType(StrEnum):
    WELCOME = "WELCOME"
    JOB_SUCCEEDED = "JOB_SUCCEEDED"
    JOB_FAILED = "JOB_FAILED"
    LOW_CREDITS = "LOW_CREDITS"


@dataclass(frozen=True)
class Notification:
    id: str
    user_id: str
    type: str
    title: str
    message: str
    created_at: datetime
    job_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    read_at: datetime | None = None

    def read_as_of(self, seen_at: datetime | None) -> datetime | None:
        """When it counts as read: its own read time, or the moment the user last marked the
        bell seen if it was created by then (older notifications count as read)."""
        if self.read_at is not None:
            return self.read_at
        return seen_at if seen_at is not None and self.created_at <= seen_at else None


def welcome(
    *, notification_id: str, user_id: str, start_credits: int, now: datetime
) -> Notification:
    return Notification(
        id=notification_id,
        user_id=user_id,
        type=NotificationType.WELCOME,
        title="Welcome to ChatSVG",
        message=f"You have {start_credits} free credits to start creating SVGs.",
        created_at=now,
    )


def job_succeeded(
    job: GenerationJob, generation_id: str, *, notification_id: str, now: datetime
) -> Notification:
    return Notification(
        id=notification_id,
        user_id=job.user_id,
        type=NotificationType.JOB_SUCCEEDED,
        title="Your SVG is ready",
        message=excerpt(job.prompt),
        created_at=now,
        job_id=job.id,
        data={"jobId": job.id, "generationId": generation_id},
    )


def job_failed(job: GenerationJob, *, notification_id: str, now: datetime) -> Notification:
    """The owner's notice of a job that has ended FAILED (with the job's own error message)."""
    return Notification(
        id=notification_id,
        user_id=job.user_id,
        type=NotificationType.JOB_FAILED,
        title="Your SVG could not be made",
        message=job.error_message or "",
        created_at=now,
        job_id=job.id,
        data={"jobId": job.id, "errorCode": job.error_code},
    )


def low_credits(
    job: GenerationJob, *, balance: int, threshold: int, notification_id: str, now: datetime
) -> Notification | None:
    """A warning once a charge has left the owner with `threshold` credits or fewer; None above it."""
    if balance > threshold:
        return None
    return Notification(
        id=notification_id,
        user_id=job.user_id,
        type=NotificationType.LOW_CREDITS,
        title="You are running low on credits",
        message=f"You have {balance} credit(s) left.",
        created_at=now,
        job_id=job.id,
        data={"balance": balance},
    )


def excerpt(text: str, limit: int = EXCERPT_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
