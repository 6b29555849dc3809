"""`/api/svg`: submit prompts, follow jobs, download and view results, the public gallery."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.response import Redirect

from chatsvg.application.generation import SubmitCommand
from chatsvg.application.ports import AccessClaims
from chatsvg.entrypoints.http.deps import provide_claims, provide_optional_claims, services
from chatsvg.entrypoints.http.schemas import GenerateBody, iso, job_json, public_item_json
from chatsvg.entrypoints.http.security import enforce, with_rate_headers

Req = Request[Any, Any, Any]
NO_STORE = {"Cache-Control": "no-store"}
AUTH = {"claims": Provide(provide_claims)}


class SvgController(Controller):
    path = "/api/svg"
    tags = ["svg"]

    @post("/generate-svg", dependencies=AUTH, status_code=202)
    async def generate(
        self, request: Req, claims: AccessClaims, data: GenerateBody
    ) -> Response[Any]:
        s = services(request)
        enforce(await s.limiter.hit("generate", claims.user_id), request)
        key = request.headers.get("idempotency-key") or request.headers.get("x-idempotency-key")
        raw = msgspec.json.decode(await request.body()) if key else None
        submitted = await s.generation.submit(
            SubmitCommand(
                user_id=claims.user_id,
                prompt=data.prompt,
                style=data.style,
                model=data.model,
                privacy=data.privacy,
                raw_body=raw,
                idempotency_key=key,
            )
        )
        job = submitted.job
        status = 200 if submitted.duplicate and job.status.terminal else 202
        response = Response(
            {"job": job_json(job, include_svg=False), "duplicate": submitted.duplicate},
            status_code=status,
            headers={"Location": f"/api/svg/generation-jobs/{job.id}", **NO_STORE},
        )
        return with_rate_headers(request, response)

    @get("/generation-jobs/{job_id:str}", dependencies=AUTH)
    async def job(self, request: Req, claims: AccessClaims, job_id: str) -> Response[Any]:
        details = await services(request).generation.details(claims.user_id, job_id)
        body = {
            "job": job_json(details.job, details.generation, details.svg),
            "credits": details.credits,
        }
        return Response(body, headers=NO_STORE)

    @get("/generation-jobs", dependencies=AUTH)
    async def jobs(
        self,
        request: Req,
        claims: AccessClaims,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Response[Any]:
        page = await services(request).generation.list_jobs(
            claims.user_id, status=status, limit=limit, cursor=cursor
        )
        body = {
            "jobs": [job_json(j, g, include_svg=False) for j, g in page.items],
            "nextCursor": page.next_cursor,
        }
        return Response(body, headers=NO_STORE)

    @post("/generation-jobs/{job_id:str}/cancel", dependencies=AUTH, status_code=200)
    async def cancel(self, request: Req, claims: AccessClaims, job_id: str) -> Response[Any]:
        job = await services(request).generation.cancel(claims.user_id, job_id)
        return Response({"job": job_json(job, include_svg=False)}, headers=NO_STORE)

    @get("/public")
    async def public(
        self,
        request: Req,
        limit: int | None = None,
        cursor: str | None = None,
        style: str | None = None,
        model: str | None = None,
    ) -> Response[Any]:
        s = services(request)
        page = await s.library.public(limit=limit, cursor=cursor, style=style, model=model)
        base = s.settings.public_url.rstrip("/")
        items = [public_item_json(g, f"{base}/api/svg/{g.id}/image") for g in page.items]
        return Response(
            {"publicGenerations": items, "nextCursor": page.next_cursor},
            headers={"Cache-Control": "no-cache"},
        )

    @get("/{generation_id:str}/download", dependencies=AUTH)
    async def download(
        self, request: Req, claims: AccessClaims, generation_id: str
    ) -> Response[Any]:
        s = services(request)
        enforce(await s.limiter.hit("download", claims.user_id), request)
        download = await s.library.download(claims.user_id, generation_id)
        response = Response(
            {"downloadUrl": download.url, "expiresAt": iso(download.expires_at)}, headers=NO_STORE
        )
        return with_rate_headers(request, response)

    @get("/{generation_id:str}/source", dependencies={"viewer": Provide(provide_optional_claims)})
    async def source(
        self, request: Req, viewer: AccessClaims | None, generation_id: str
    ) -> Response[Any]:
        generation, svg = await services(request).library.source(
            viewer.user_id if viewer else None, generation_id
        )
        return Response({"id": generation.id, "svg": svg}, headers=NO_STORE)

    @get("/{generation_id:str}/image", dependencies={"viewer": Provide(provide_optional_claims)})
    async def image(
        self, request: Req, viewer: AccessClaims | None, generation_id: str
    ) -> Redirect:
        """A stable image URL for <img>: redirects to a short-lived signed URL while the generation is
        public (or to its owner); making it private withdraws it at once."""
        url = await services(request).library.viewable(
            viewer.user_id if viewer else None, generation_id
        )
        return Redirect(url, status_code=302, headers=NO_STORE)
