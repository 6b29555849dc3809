"""Notifications shown in the web client's bell: one per (job, type), whatever retries happen."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


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
