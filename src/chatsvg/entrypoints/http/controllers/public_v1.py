"""The public API, `/v1`: generate and follow jobs with an `X-API-Key` header (no cookies, no CSRF;
CORS `*`, see `open_cors.py`). Every call made with a known key is recorded for its figures,
whatever it answered; every answer carries `X-RateLimit-*`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

from chatsvg.application.keys.public_api import Caller, PublicApi, credits_charged
from chatsvg.application.ports import RateDecision
from chatsvg.domain.errors import DomainError, ValidationFailed
from chatsvg.domain.keys.keys import Scope
from chatsvg.entrypoints.http.deps import Inject
from chatsvg.entrypoints.http.key_schemas import (
    OpenApiDocument,
    V1GenerateBody,
    V1JobEnvelope,
    V1Submitted,
    v1_job,
)
from chatsvg.entrypoints.http.openapi import (
    ANYONE,
    API_KEY,
    INPUT,
    JSON_BODY,
    RATE_LIMIT_HEADERS,
    problems,
)
from chatsvg.entrypoints.http.problems import handle_exception
from chatsvg.entrypoints.http.security import NO_STORE, WebSecurity, rate_headers

Req = Request[Any, Any, Any]
KEY_ERRORS = ("API_KEY_INVALID", "API_KEY_FORBIDDEN")
_DECODE = msgspec.json.Decoder(V1GenerateBody)
STRING = OpenAPIType.STRING
JOB_LOCATION = ResponseHeader(
    name="Location", value="/v1/svg/job/{id}", documentation_only=True, description="The job."
)


@dataclass
class _GenerateOperation(Operation):
    """The body is read after the key is checked (a bad key is 401 whatever the body), so the
    document is told its schema here."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            content={
                "application/json": OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        required=["prompt"],
                        properties={
                            "prompt": Schema(type=STRING, description="1 to 1000 characters"),
                            "style": Schema(type=STRING, description="default minimal"),
                            "model": Schema(type=STRING),
                            "privacy": Schema(type=OpenAPIType.BOOLEAN, description="default true"),
                            "idempotencyKey": Schema(type=STRING, max_length=128),
                            "n": Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=4),
                        },
                    )
                )
            },
        )


@dataclass
class _Call:
    """One call's record: who made it and what it committed."""

    api: PublicApi
    endpoint: str
    started: float = field(default_factory=time.monotonic)
    caller: Caller | None = None
    rate: RateDecision | None = None
    credits: int = 0

    async def finish(self, response: Response[Any]) -> Response[Any]:
        if self.rate is not None:
            for name, value in rate_headers(self.rate).items():
                response.headers.setdefault(name, value)
        if self.caller is not None:
            await self.api.record(
                self.caller,
                endpoint=self.endpoint,
                status=response.status_code or 200,
                latency_ms=round((time.monotonic() - self.started) * 1000),
                credits=self.credits,
            )
        return response


def _decode(raw: bytes) -> V1GenerateBody:
    try:
        return _DECODE.decode(raw)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(f"The request body is not valid: {exc}.") from None
    except msgspec.DecodeError:
        raise ValidationFailed("The request body must be a JSON object.") from None


class PublicApiController(Controller):
    path = "/v1"
    tags = ["public api"]

    @post(
        "/svg/generate",
        status_code=202,
        summary="Queue a generation (202; a replay of an idempotency key answers 200, duplicate)",
        description="Header `X-API-Key`. Optional idempotency key (`idempotencyKey` in the body, "
        "or the `Idempotency-Key` header): the same key and body answer the same job with "
        "`duplicate: true` and charge nothing; a different body under it is 422. A test key "
        "(`sk_test_`) runs the job on the offline model and spends no credits.",
        security=API_KEY,
        operation_class=_GenerateOperation,
        response_headers=[JOB_LOCATION, *RATE_LIMIT_HEADERS],
        responses=problems(
            *JSON_BODY,
            *KEY_ERRORS,
            "INSUFFICIENT_CREDITS",
            "IDEMPOTENCY_KEY_REUSED",
            "RATE_LIMITED",
        ),
    )
    async def generate(
        self, request: Req, public_api: Inject[PublicApi], security: Inject[WebSecurity]
    ) -> Response[V1Submitted]:
        call = _Call(public_api, "POST /v1/svg/generate")
        try:
            call.caller = await public_api.authenticate(request.headers.get("x-api-key"))
            public_api.authorize(
                call.caller, scope=Scope.GENERATE_SVG, address=security.client_ip(request)
            )
            sent = await request.body()
            body = _decode(sent)
            key = body.idempotency_key or request.headers.get("idempotency-key")
            key = key or request.headers.get("x-idempotency-key")
            raw: Any = None
            if key:  # what the key names: the body as sent, without the key itself
                raw = msgspec.json.decode(sent)
                if isinstance(raw, dict):
                    raw.pop("idempotencyKey", None)
            call.rate = await public_api.admit_generation(call.caller)
            submitted = await public_api.generate(
                call.caller,
                prompt=body.prompt,
                style=body.style,
                model=body.model,
                privacy=body.privacy,
                raw_body=raw,
                idempotency_key=key,
                n=body.n,
            )
        except DomainError as exc:
            return await call.finish(handle_exception(request, exc))
        job = submitted.job
        call.credits = 0 if submitted.duplicate else job.cost
        answer = V1Submitted(
            job_id=job.id,
            status=job.status.value.lower(),
            credits_charged=credits_charged(job),
            duplicate=submitted.duplicate,
        )
        response = Response(
            answer,
            status_code=200 if submitted.duplicate else 202,
            headers={"Location": f"/v1/svg/job/{job.id}", **NO_STORE},
        )
        return await call.finish(response)

    @get(
        "/svg/job/{job_id:str}",
        summary="A job: its status, and once it succeeded the SVG and a signed download URL",
        security=API_KEY,
        response_headers=RATE_LIMIT_HEADERS,
        responses=problems(*INPUT, *KEY_ERRORS, "NOT_FOUND", "RATE_LIMITED"),
    )
    async def job(
        self,
        request: Req,
        job_id: str,
        public_api: Inject[PublicApi],
        security: Inject[WebSecurity],
    ) -> Response[V1JobEnvelope]:
        call = _Call(public_api, "GET /v1/svg/job")
        try:
            call.caller = await public_api.authenticate(request.headers.get("x-api-key"))
            public_api.authorize(
                call.caller, scope=Scope.READ_GENERATION, address=security.client_ip(request)
            )
            call.rate = await public_api.admit_read(call.caller)
            found = await public_api.job(call.caller, job_id)
        except DomainError as exc:
            return await call.finish(handle_exception(request, exc))
        return await call.finish(Response(V1JobEnvelope(job=v1_job(found)), headers=NO_STORE))

    @get(
        "/openapi.json",
        summary="The OpenAPI document of the public API alone (/v1), with its API-key scheme",
        security=ANYONE,
        responses=problems(),
    )
    async def openapi(self, request: Req) -> Response[OpenApiDocument]:
        full = request.app.openapi_schema.to_schema()
        paths = {p: ops for p, ops in full["paths"].items() if p.startswith("/v1/")}
        components = dict(full.get("components", {}))
        schemes = components.get("securitySchemes", {})
        components["securitySchemes"] = {k: v for k, v in schemes.items() if k in API_KEY[0]}
        info = {
            **full.get("info", {}),
            "title": "ChatSVG public API",
            "description": "Generate SVGs with an API key (`X-API-Key: sk_live_...`). Errors are "
            "application/problem+json with a stable `errorCode`.",
        }
        document = OpenApiDocument(
            openapi=full.get("openapi", "3.1.0"),
            info=info,
            paths=paths,
            components=components,
            security=[{name: []} for name in API_KEY[0]],
        )
        return Response(document, headers={"Cache-Control": "no-cache"})
