"""`/api/svg`: submit prompts, follow jobs, download and view results, the public gallery."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.response import Redirect

from chatsvg.application.gallery.library import GenerationLibrary
from chatsvg.application.generation.submission import (
    GenerationService,
    SubmitCommand,
    Submitted,
)
from chatsvg.application.ports import AccessClaims, RateLimiter
from chatsvg.entrypoints.http.deps import Inject, provide_claims, provide_optional_claims
from chatsvg.entrypoints.http.generation_schemas import (
    GenerateBody,
    JobDetails,
    JobEnvelope,
    JobPage,
    RefineBody,
    SubmittedJob,
    job_json,
)
from chatsvg.entrypoints.http.openapi import (
    ANYONE,
    ANYONE_OR_SIGNED_IN,
    AUTH,
    CSRF,
    INPUT,
    JSON_BODY,
    RATE_LIMIT_HEADERS,
    SIGNED_IN,
    SIGNED_IN_UNSAFE,
    problems,
)
from chatsvg.entrypoints.http.schemas import (
    DownloadLink,
    PublicGallery,
    SvgSource,
    public_item_json,
    timestamp,
)
from chatsvg.entrypoints.http.security import NO_STORE, enforce, with_rate_headers
from chatsvg.entrypoints.settings import Settings

Req = Request[Any, Any, Any]
CLAIMS = {"claims": Provide(provide_claims)}
VIEWER = {"viewer": Provide(provide_optional_claims)}
JOB_LOCATION = ResponseHeader(
    name="Location",
    value="/api/svg/generation-jobs/{id}",
    documentation_only=True,
    description="Where to follow the job.",
)


class SvgController(Controller):
    path = "/api/svg"
    tags = ["svg"]

    @post(
        "/generate-svg",
        dependencies=CLAIMS,
        status_code=202,
        summary="Queue a generation (202; 200 for a replay of a finished job)",
        description="Optional header `Idempotency-Key` (or `x-idempotency-key`, at most 128 "
        "characters): the same key with the same body answers the same job again with "
        "`duplicate: true` and charges nothing; with a different body, 422.",
        security=SIGNED_IN_UNSAFE,
        response_headers=[JOB_LOCATION, *RATE_LIMIT_HEADERS],
        responses=problems(
            *JSON_BODY,
            *CSRF,
            *AUTH,
            "INSUFFICIENT_CREDITS",
            "IDEMPOTENCY_KEY_REUSED",
            "RATE_LIMITED",
        ),
    )
    async def generate(
        self,
        request: Req,
        claims: AccessClaims,
        data: GenerateBody,
        generation: Inject[GenerationService],
        limiter: Inject[RateLimiter],
    ) -> Response[SubmittedJob]:
        enforce(await limiter.hit("generate", claims.user_id), request)
        key, raw = await _idempotency(request)
        submitted = await generation.submit(
            SubmitCommand(
                user_id=claims.user_id,
                prompt=data.prompt,
                style=data.style,
                model=data.model,
                privacy=data.privacy,
                raw_body=raw,
                idempotency_key=key,
                n=data.n,
            )
        )
        return _submitted(request, submitted)

    @post(
        "/{generation_id:str}/refine",
        dependencies=CLAIMS,
        status_code=202,
        summary="Queue a refinement of one of the user's generations (202; 200 for a replay of a "
        "finished job)",
        description="`{instruction, model?}`: the model is given the generation's SVG and the "
        "instruction; the new generation keeps the style and privacy and carries `parentId`. "
        "`Idempotency-Key` as for generate-svg.",
        security=SIGNED_IN_UNSAFE,
        response_headers=[JOB_LOCATION, *RATE_LIMIT_HEADERS],
        responses=problems(
            *JSON_BODY,
            *CSRF,
            *AUTH,
            "NOT_FOUND",
            "INSUFFICIENT_CREDITS",
            "IDEMPOTENCY_KEY_REUSED",
            "RATE_LIMITED",
        ),
    )
    async def refine(
        self,
        request: Req,
        claims: AccessClaims,
        generation_id: str,
        data: RefineBody,
        generation: Inject[GenerationService],
        limiter: Inject[RateLimiter],
    ) -> Response[SubmittedJob]:
        enforce(await limiter.hit("generate", claims.user_id), request)
        key, raw = await _idempotency(request)
        submitted = await generation.submit(
            SubmitCommand(
                user_id=claims.user_id,
                prompt=data.instruction,
                style=None,
                model=data.model,
                privacy=None,
                # The same key for another generation is another request.
                raw_body={"refine": generation_id, "body": raw} if key else None,
                idempotency_key=key,
                parent_id=generation_id,
            )
        )
        return _submitted(request, submitted)

    @get(
        "/generation-jobs/{job_id:str}",
        dependencies=CLAIMS,
        summary="A job, with its generation and SVG once it succeeded, and the balance now",
        security=SIGNED_IN,
        responses=problems(*INPUT, *AUTH, "NOT_FOUND"),
    )
    async def job(
        self,
        claims: AccessClaims,
        job_id: str,
        generation: Inject[GenerationService],
        settings: Inject[Settings],
    ) -> Response[JobDetails]:
        details = await generation.details(claims.user_id, job_id)
        job = job_json(
            details.job,
            details.generation,
            details.svg,
            drawings=details.drawings,
            base_url=_base(settings),
        )
        body = JobDetails(job=job, credits=details.credits)
        return Response(body, headers=NO_STORE)

    @get(
        "/generation-jobs",
        dependencies=CLAIMS,
        summary="The user's jobs, newest first (no `generation.svg`)",
        security=SIGNED_IN,
        responses=problems(*INPUT, *AUTH),
    )
    async def jobs(
        self,
        claims: AccessClaims,
        generation: Inject[GenerationService],
        settings: Inject[Settings],
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Response[JobPage]:
        page = await generation.list_jobs(claims.user_id, status=status, limit=limit, cursor=cursor)
        drawings = await generation.drawings([j for j, _ in page.items])
        base = _base(settings)
        body = JobPage(
            jobs=[
                job_json(j, g, include_svg=False, drawings=drawings.get(j.id), base_url=base)
                for j, g in page.items
            ],
            next_cursor=page.next_cursor,
        )
        return Response(body, headers=NO_STORE)

    @post(
        "/generation-jobs/{job_id:str}/cancel",
        dependencies=CLAIMS,
        status_code=200,
        summary="Cancel a queued job (it ends FAILED with errorCode CANCELED, refunded)",
        security=SIGNED_IN_UNSAFE,
        responses=problems(*INPUT, *CSRF, *AUTH, "NOT_FOUND", "JOB_NOT_CANCELLABLE"),
    )
    async def cancel(
        self, claims: AccessClaims, job_id: str, generation: Inject[GenerationService]
    ) -> Response[JobEnvelope]:
        job = await generation.cancel(claims.user_id, job_id)
        return Response(JobEnvelope(job=job_json(job, include_svg=False)), headers=NO_STORE)

    @get(
        "/public",
        summary="The public gallery, newest first; no credentials needed",
        security=ANYONE,
        responses=problems(*INPUT),
    )
    async def public(
        self,
        library: Inject[GenerationLibrary],
        settings: Inject[Settings],
        limit: int | None = None,
        cursor: str | None = None,
        style: str | None = None,
        model: str | None = None,
    ) -> Response[PublicGallery]:
        page = await library.public(limit=limit, cursor=cursor, style=style, model=model)
        base = _base(settings)
        items = [public_item_json(g, f"{base}/api/svg/{g.id}/image") for g in page.items]
        return Response(
            PublicGallery(public_generations=items, next_cursor=page.next_cursor),
            headers={"Cache-Control": "no-cache"},
        )

    @get(
        "/{generation_id:str}/download",
        dependencies=CLAIMS,
        summary="A signed download URL, valid 5 minutes",
        security=SIGNED_IN,
        response_headers=RATE_LIMIT_HEADERS,
        responses=problems(*INPUT, *AUTH, "NOT_FOUND", "RATE_LIMITED"),
    )
    async def download(
        self,
        request: Req,
        claims: AccessClaims,
        generation_id: str,
        library: Inject[GenerationLibrary],
        limiter: Inject[RateLimiter],
    ) -> Response[DownloadLink]:
        enforce(await limiter.hit("download", claims.user_id), request)
        download = await library.download(claims.user_id, generation_id)
        response = Response(
            DownloadLink(download_url=download.url, expires_at=timestamp(download.expires_at)),
            headers=NO_STORE,
        )
        return with_rate_headers(request, response)

    @get(
        "/{generation_id:str}/source",
        dependencies=VIEWER,
        summary="The sanitized SVG text, for its owner or, when public, anyone",
        security=ANYONE_OR_SIGNED_IN,
        responses=problems(*INPUT, "NOT_FOUND"),
    )
    async def source(
        self, viewer: AccessClaims | None, generation_id: str, library: Inject[GenerationLibrary]
    ) -> Response[SvgSource]:
        generation, svg = await library.source(viewer.user_id if viewer else None, generation_id)
        return Response(SvgSource(id=generation.id, svg=svg), headers=NO_STORE)

    @get(
        "/{generation_id:str}/image",
        dependencies=VIEWER,
        status_code=302,
        summary="A stable image URL for <img>: redirects to a short-lived signed URL",
        security=ANYONE_OR_SIGNED_IN,
        responses=problems(*INPUT, "NOT_FOUND"),
    )
    async def image(
        self, viewer: AccessClaims | None, generation_id: str, library: Inject[GenerationLibrary]
    ) -> Redirect:
        """A stable image URL for <img>: redirects to a short-lived signed URL while the generation is
        public (or to its owner); making it private withdraws it at once."""
        url = await library.viewable(viewer.user_id if viewer else None, generation_id)
        return Redirect(url, status_code=302, headers=NO_STORE)


def _base(settings: Settings) -> str:
    return settings.public_url.rstrip("/")


async def _idempotency(request: Req) -> tuple[str | None, Any]:
    """The request's idempotency key, and with one its body as it was sent (what the key names)."""
    key = request.headers.get("idempotency-key") or request.headers.get("x-idempotency-key")
    return key, msgspec.json.decode(await request.body()) if key else None


def _submitted(request: Req, submitted: Submitted) -> Response[SubmittedJob]:
    job = submitted.job
    status = 200 if submitted.duplicate and job.status.terminal else 202
    response = Response(
        SubmittedJob(job=job_json(job, include_svg=False), duplicate=submitted.duplicate),
        status_code=status,
        headers={"Location": f"/api/svg/generation-jobs/{job.id}", **NO_STORE},
    )
    return with_rate_headers(request, response)
