"""The public /v1 API: a call authenticated by an API key, held to its plan's (or the key's own)
rates, running the same generation use cases as the web app, and recorded for the key's figures."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chatsvg.application.gallery.library import GenerationLibrary
from chatsvg.application.generation.submission import (
    GenerationService,
    JobDetails,
    SubmitCommand,
    Submitted,
)
from chatsvg.application.ids import new_id
from chatsvg.application.keys.plans import KeyPlanRules
from chatsvg.application.plans import MINUTE, Window, admit, plan_generation_windows
from chatsvg.application.ports import Clock, RateDecision, UnitOfWorkFactory, WindowLimiter
from chatsvg.domain.generation.jobs import GenerationJob, JobSource, JobStatus
from chatsvg.domain.keys.keys import (
    ApiKey,
    ApiKeyForbidden,
    ApiKeyInvalid,
    key_digest,
    well_formed,
)
from chatsvg.domain.keys.usage import KeyUsage

log = logging.getLogger(__name__)

REFUSAL = "Too many requests for this API key's plan; try again later."
READS_PER_MINUTE = 600  # job status polls: generous, per key


@dataclass(frozen=True)
class Caller:
    key: ApiKey
    plan: str | None


@dataclass(frozen=True)
class PublicJob:
    details: JobDetails
    url: str | None


def credits_charged(job: GenerationJob) -> bool:
    """Whether the job costs (or cost) the caller credits: never for a test key's job, not after a
    refund, not for a job that failed before it was charged."""
    if job.cost == 0 or job.refunded:
        return False
    return job.charged or not job.status.terminal


class PublicApi:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        secret: bytes,
        plans: KeyPlanRules,
        limiter: WindowLimiter,
        generation: GenerationService,
        library: GenerationLibrary,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._secret = secret
        self._plans = plans
        self._limiter = limiter
        self._generation = generation
        self._library = library

    async def authenticate(self, token: str | None) -> Caller:
        """The caller behind `X-API-Key`, read from the database on every call (a revoked key stops
        working at once, in every process). Missing, unknown, revoked or expired: ApiKeyInvalid."""
        token = (token or "").strip()
        if not token or not well_formed(token):
            raise ApiKeyInvalid()
        async with self._uow() as uow:
            key = await uow.api_keys.by_hash(key_digest(self._secret, token))
            user = await uow.users.get(key.user_id) if key is not None else None
        if key is None or user is None or not key.live(self._clock.now()):
            raise ApiKeyInvalid()
        return Caller(key, user.plan)

    def authorize(self, caller: Caller, *, scope: str, address: str) -> None:
        """ApiKeyForbidden when the address is not allowed, the scope is missing or the plan has
        no API access."""
        caller.key.authorize(scope=scope, address=address, now=self._clock.now())
        if not self._plans.api_access(caller.plan):
            raise ApiKeyForbidden("Your plan does not include API access.")

    async def admit_generation(self, caller: Caller) -> RateDecision:
        """Count one generation against the plan's per-minute, per-hour and per-day rates, and a
        key's own per-minute rate when it has one (its owner chose it: it can only tighten the
        plan's, never lift it); RateLimited when one is exceeded. Answers the tightest window,
        for the X-RateLimit-* headers."""
        rates = self._plans.api_rates(caller.plan)
        windows: list[Window] = [
            ("api-key-minute", caller.key.id, caller.key.custom_rate_limit, MINUTE),
            *plan_generation_windows(caller.key.user_id, rates),
        ]
        return await admit(self._limiter, windows, REFUSAL)

    async def admit_read(self, caller: Caller) -> RateDecision:
        return await admit(
            self._limiter, [("api-read", caller.key.id, READS_PER_MINUTE, MINUTE)], REFUSAL
        )

    async def generate(
        self,
        caller: Caller,
        *,
        prompt: Any,
        style: Any,
        model: Any,
        privacy: Any,
        raw_body: Any,
        idempotency_key: str | None,
        n: int | None = None,
    ) -> Submitted:
        """The same submission as the web app's (validation, idempotency, credits, quotas), as the
        key's user, recorded as from the API and this key. A test key's job is free and offline."""
        return await self._generation.submit(
            SubmitCommand(
                user_id=caller.key.user_id,
                prompt=prompt,
                style=style,
                model=model,
                privacy=privacy,
                raw_body=raw_body,
                idempotency_key=idempotency_key,
                source=JobSource.API,
                api_key_id=caller.key.id,
                free=caller.key.is_test,
                n=n,
            )
        )

    async def job(self, caller: Caller, job_id: str) -> PublicJob:
        details = await self._generation.details(caller.key.user_id, job_id)
        url = None
        if details.job.status is JobStatus.SUCCEEDED and details.generation is not None:
            download = await self._library.download(caller.key.user_id, details.generation.id)
            url = download.url
        return PublicJob(details, url)

    async def record(
        self, caller: Caller, *, endpoint: str, status: int, latency_ms: int, credits: int
    ) -> None:
        """One call with the key: a usage record, and the key's count and last use. Never fails the
        call it records."""
        now = self._clock.now()
        record = KeyUsage(
            id=new_id(),
            key_id=caller.key.id,
            user_id=caller.key.user_id,
            endpoint=endpoint[:64],
            status=status,
            latency_ms=max(0, latency_ms),
            credits=max(0, credits),
            created_at=now,
        )
        try:
            async with self._uow() as uow:
                await uow.key_usage.add(record)
                await uow.api_keys.record_use(caller.key.id, now)
                await uow.commit()
        except Exception:
            log.warning("could not record an API key's use", exc_info=True)
