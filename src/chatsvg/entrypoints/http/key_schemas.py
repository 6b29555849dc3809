"""The JSON shapes of `/api/keys` and the public `/v1` API (API.md, "API keys" and "Public API")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from chatsvg.application.keys.public_api import PublicJob, credits_charged
from chatsvg.application.wire import optional_timestamp, timestamp
from chatsvg.domain.errors import ValidationFailed
from chatsvg.domain.keys.keys import ApiKey
from chatsvg.domain.keys.usage import UsageTotals
from chatsvg.entrypoints.http.schemas import Body


class CreateKeyBody(Body):
    name: str
    description: str | None = None
    environment: str | None = None
    ip_whitelist: list[str] | None = None
    expires_at: str | None = None
    # Beyond API.md: narrower scopes and a key's own generations-per-minute.
    scopes: list[str] | None = None
    custom_rate_limit: int | None = None


class KeyItem(msgspec.Struct, rename="camel", kw_only=True):
    id: str
    name: str
    description: str | None
    key_prefix: str
    environment: str
    created_at: str
    last_used_at: str | None
    expires_at: str | None
    usage_count: int
    custom_rate_limit: int | None
    ip_whitelist: list[str]
    scopes: list[str]


class KeyList(msgspec.Struct, rename="camel", kw_only=True):
    keys: list[KeyItem]


class CreatedKeyAnswer(msgspec.Struct, rename="camel", kw_only=True):
    id: str
    name: str
    key_prefix: str
    key: str
    created_at: str
    warning: str


class KeyStats(msgspec.Struct, rename="camel", kw_only=True):
    total_requests: int
    successful_requests: int
    failed_requests: int
    total_credits_used: int
    success_rate: float


class KeyStatsEnvelope(msgspec.Struct, kw_only=True):
    stats: KeyStats


class UsageSummary(msgspec.Struct, rename="camel", kw_only=True):
    total_requests: int
    successful_requests: int
    failed_requests: int
    total_credits_used: int
    average_latency_ms: int
    success_rate: float


class UsageSummaryEnvelope(msgspec.Struct, kw_only=True):
    summary: UsageSummary


class V1GenerateBody(Body):
    prompt: str
    style: str | None = None
    model: str | None = None
    privacy: bool | None = None
    idempotency_key: str | None = None
    n: int | None = None  # drawings, 1 to 4, made and charged as one job


class V1Submitted(msgspec.Struct, rename="camel", kw_only=True):
    job_id: str
    status: str  # lower case: queued, running, succeeded, failed
    credits_charged: bool
    duplicate: bool


class V1Job(msgspec.Struct, rename="camel", kw_only=True):
    id: str
    status: str  # QUEUED, RUNNING, SUCCEEDED, FAILED
    prompt: str
    style: str
    model: str
    svg: str | None
    url: str | None
    error_code: str | None
    error_message: str | None
    created_at: str
    finished_at: str | None
    credits_charged: bool


class V1JobEnvelope(msgspec.Struct, kw_only=True):
    job: V1Job


class OpenApiDocument(msgspec.Struct, kw_only=True):
    """An OpenAPI 3.1 document (its members as the specification names them)."""

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]
    servers: list[dict[str, Any]] | msgspec.UnsetType = msgspec.UNSET
    security: list[dict[str, Any]] | msgspec.UnsetType = msgspec.UNSET


def key_item(key: ApiKey) -> KeyItem:
    return KeyItem(
        id=key.id,
        name=key.name,
        description=key.description,
        key_prefix=key.key_prefix,
        environment=key.environment.value,
        created_at=timestamp(key.created_at),
        last_used_at=optional_timestamp(key.last_used_at),
        expires_at=optional_timestamp(key.expires_at),
        usage_count=key.usage_count,
        custom_rate_limit=key.custom_rate_limit,
        ip_whitelist=list(key.ip_whitelist),
        scopes=list(key.scopes),
    )


def key_stats(totals: UsageTotals) -> KeyStats:
    return KeyStats(
        total_requests=totals.total,
        successful_requests=totals.succeeded,
        failed_requests=totals.failed,
        total_credits_used=totals.credits,
        success_rate=totals.success_rate,
    )


def usage_summary(totals: UsageTotals) -> UsageSummary:
    return UsageSummary(
        total_requests=totals.total,
        successful_requests=totals.succeeded,
        failed_requests=totals.failed,
        total_credits_used=totals.credits,
        average_latency_ms=totals.average_latency_ms,
        success_rate=totals.success_rate,
    )


def v1_job(found: PublicJob) -> V1Job:
    job = found.details.job
    return V1Job(
        id=job.id,
        status=job.status.value,
        prompt=job.prompt,
        style=job.style,
        model=job.model,
        svg=found.details.svg,
        url=found.url,
        error_code=job.error_code if job.status.terminal else None,
        error_message=job.error_message if job.status.terminal else None,
        created_at=timestamp(job.created_at),
        finished_at=optional_timestamp(job.finished_at),
        credits_charged=credits_charged(job),
    )


def parse_expiry(text: str | None) -> datetime | None:
    """`expiresAt`: an RFC 3339 time (a time without zone is UTC) or a bare date (its start)."""
    if text is None or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            "expiresAt must be an RFC 3339 time.",
            details=[{"field": "expiresAt", "message": "not a time"}],
        ) from None
    value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)  # 9999-12-31T23:59-05:00 has no UTC time: not storable
    except OverflowError:
        raise ValidationFailed(
            "expiresAt is out of range.",
            details=[{"field": "expiresAt", "message": "out of range"}],
        ) from None
