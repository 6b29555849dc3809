"""The three MCP tools as use cases, for the caller an access token speaks for.

Every call is checked against its caller (the server is stateless: there is no session to trust):
the scope the user granted, the per-plan rates, and ownership of the job read. Generations go
through the web app's own submission use case (validation, credits, quotas), recorded as made by
MCP. Per-plan rates count generations (like `POST /v1/svg/generate`), not protocol messages; reads
have a generous limit of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chatsvg.application.authorization.server import Caller
from chatsvg.application.gallery.library import GenerationLibrary
from chatsvg.application.generation.submission import GenerationService, SubmitCommand
from chatsvg.application.plans import MINUTE, admit, plan_generation_windows, plan_in
from chatsvg.application.ports import UnitOfWorkFactory
from chatsvg.application.ports.keys import WindowLimiter
from chatsvg.domain.authorization.grants import SCOPE_GENERATE, SCOPE_READ
from chatsvg.domain.credits.plans import PlanCatalogue
from chatsvg.domain.errors import DomainError
from chatsvg.domain.generation.jobs import GenerationJob, JobSource, JobStatus

REFUSAL = "Too many generations for your plan; try again later."
READS_PER_MINUTE = 600  # get_job_status and list_styles, per user


class ScopeMissing(DomainError):
    code = "INSUFFICIENT_SCOPE"
    default_message = "The access granted to this application does not cover this tool."


class PlanWithoutApiAccess(DomainError):
    code = "PLAN_WITHOUT_API_ACCESS"
    default_message = "Your plan does not include API access (the public API and MCP)."


@dataclass(frozen=True)
class JobView:
    status: JobStatus
    error_message: str | None
    svg: str | None
    url: str | None


class McpTools:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        generation: GenerationService,
        library: GenerationLibrary,
        limiter: WindowLimiter,
        plans: PlanCatalogue,
    ) -> None:
        self._uow = uow
        self._generation = generation
        self._library = library
        self._limiter = limiter
        self._plans = plans

    def styles(self) -> list[str]:
        return list(self._generation.catalogue.styles)

    async def admit_read(self, caller: Caller) -> None:
        await admit(
            self._limiter, [("mcp-read", caller.user_id, READS_PER_MINUTE, MINUTE)], REFUSAL
        )

    async def generate(
        self, caller: Caller, *, prompt: Any, style: Any, model: Any, privacy: Any
    ) -> GenerationJob:
        if SCOPE_GENERATE not in caller.scopes:
            raise ScopeMissing()
        async with self._uow() as uow:
            plan = await plan_in(uow, self._plans, caller.user_id)
        if not plan.limits.api_access:  # as POST /v1/svg/generate
            raise PlanWithoutApiAccess()
        # The plan's API rates (CHATSVG_PLAN_*_RATE_LIMITS): generations, not protocol messages.
        rates = plan.limits.rate_limits
        await admit(self._limiter, plan_generation_windows(caller.user_id, rates), REFUSAL)
        raw = {"prompt": prompt, "style": style, "model": model, "privacy": privacy}
        submitted = await self._generation.submit(
            SubmitCommand(
                user_id=caller.user_id,
                prompt=prompt,
                style=style,
                model=model,
                privacy=privacy,
                raw_body=raw,
                source=JobSource.MCP,
            )
        )
        return submitted.job

    async def job_status(self, caller: Caller, job_id: str) -> JobView:
        if SCOPE_READ not in caller.scopes:
            raise ScopeMissing()
        await self.admit_read(caller)
        details = await self._generation.details(caller.user_id, job_id)
        url = None
        svg = None
        if details.job.status is JobStatus.SUCCEEDED and details.generation is not None:
            url = (await self._library.download(caller.user_id, details.generation.id)).url
            svg = details.svg
        return JobView(details.job.status, details.job.error_message, svg, url)
