"""One mapping from errors to RFC 9457 problem+json, with the `error` and `errorCode` members the web client reads."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy import exc as sa_exc

from chatsvg.domain.errors import DomainError, RateLimited

log = logging.getLogger("chatsvg.http")

STATUS_BY_CODE = {
    "VALIDATION_ERROR": 400,
    "INVALID_RESET_TOKEN": 400,
    "UNAUTHENTICATED": 401,
    "TOKEN_EXPIRED": 401,
    "INVALID_CREDENTIALS": 401,
    "REFRESH_TOKEN_REUSED": 401,
    "API_KEY_INVALID": 401,
    "INSUFFICIENT_CREDITS": 402,
    "CSRF_FAILED": 403,
    "EMAIL_AUTH_DISABLED": 403,
    "API_KEY_FORBIDDEN": 403,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "EMAIL_TAKEN": 409,
    "JOB_NOT_CANCELLABLE": 409,
    "API_KEY_LIMIT": 409,
    "ILLEGAL_TRANSITION": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "IDEMPOTENCY_KEY_REUSED": 422,
    "RATE_LIMITED": 429,
    "QUOTA_EXCEEDED": 429,
    "NO_SUBSCRIPTION": 400,
    "BILLING_DISABLED": 503,
    "BILLING_UNAVAILABLE": 503,
    "INVALID_WEBHOOK": 400,
    "INTERNAL_ERROR": 500,
    "SERVICE_UNAVAILABLE": 503,
}

CODE_BY_STATUS = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemFieldError(msgspec.Struct, kw_only=True):
    """One thing wrong with the request: which member (null when it is the body as a whole)."""

    field: str | None
    message: str | None


class Problem(msgspec.Struct, rename="camel", kw_only=True):
    """RFC 9457 problem details, with the two members the web client reads: `error` (the same
    text as `detail`) and `errorCode` (stable, machine-readable); `errors` only on a 400 that
    names the members at fault."""

    type: str
    title: str
    status: int
    detail: str
    error: str
    error_code: str
    errors: list[ProblemFieldError] | msgspec.UnsetType = msgspec.UNSET


class ServiceUnavailable(DomainError):
    code = "SERVICE_UNAVAILABLE"
    default_message = "The service is temporarily unavailable."


def limit_headers(limit: int, remaining: int, reset_at: int) -> dict[str, str]:
    """The X-RateLimit-* headers of a limited route (none for a limit of 0: not limited)."""
    if not limit:
        return {}
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset_at),
    }


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    body = Problem(
        type=f"https://chatsvg.dev/problems/{code.lower().replace('_', '-')}",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        error=detail,
        error_code=code,
        errors=(
            [ProblemFieldError(field=e.get("field"), message=e.get("message")) for e in errors]
            if errors
            else msgspec.UNSET
        ),
    )
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers or {})


def _validation_errors(extra: Any) -> list[dict[str, Any]]:
    errors = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            key = item.get("key")
            message = item.get("message")
            if key == "data" and message == "'data'":
                message = "A JSON body is required."
            errors.append({"field": key, "message": message})
    return errors


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, DomainError):
        status = STATUS_BY_CODE.get(exc.code, 400)
        headers: dict[str, str] = {}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
            headers.update(limit_headers(exc.limit, exc.remaining, exc.reset_at))
        return problem(status, exc.code, exc.message, errors=exc.details, headers=headers)
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc.extra)
        detail = (
            "; ".join(f"{e['field']}: {e['message']}" for e in errors if e.get("field"))
            or "The request is not valid."
        )
        if any(e.get("message") == "A JSON body is required." for e in errors):
            detail = "A JSON body is required."
        return problem(400, "VALIDATION_ERROR", detail, errors=errors)
    if isinstance(exc, HTTPException):
        status = exc.status_code
        if status >= 500:
            log.error("http error %s", status, exc_info=exc)
            return problem(
                status,
                CODE_BY_STATUS.get(status, "INTERNAL_ERROR"),
                "The server could not complete the request.",
            )
        code = CODE_BY_STATUS.get(status, "BAD_REQUEST")
        detail = {
            400: "The request body is not valid JSON.",
            404: "Not found.",
            405: "Method not allowed.",
            413: "The request body is too large.",
        }.get(status, str(exc.detail) if exc.detail else HTTPStatus(status).phrase)
        return problem(status, code, detail, headers=dict(exc.headers or {}))
    if _backend_unreachable(exc):
        # A dropped or refused database connection, or no free one: the request may succeed if
        # retried (the pool replaces broken connections), so not a 500.
        log.warning("backend unavailable on %s %s", request.method, request.url.path, exc_info=exc)
        return problem(
            503,
            "SERVICE_UNAVAILABLE",
            "The service is temporarily unavailable. Please try again.",
            headers={"Retry-After": "1"},
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "INTERNAL_ERROR", "Something went wrong on our side. Please try again.")


def _backend_unreachable(exc: Exception) -> bool:
    if isinstance(exc, sa_exc.TimeoutError | ConnectionError):
        return True  # the pool had no free connection in time; a refused or reset connection
    return isinstance(exc, sa_exc.DBAPIError) and (
        exc.connection_invalidated
        or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    )
