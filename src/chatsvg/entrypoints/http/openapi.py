"""What the OpenAPI document says beyond the handlers' types: security schemes, which routes need
them, the problem+json answers of each route, and the headers and cookies that only the code sets.

The client-facing prose is docs/api.md; this module keeps the machine-readable document complete
enough for a generated client to be typed (a test walks every route to check it).
"""

from __future__ import annotations

from http import HTTPStatus

from litestar.datastructures import Cookie, ResponseHeader
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme

from chatsvg.entrypoints.http.problems import PROBLEM_MEDIA_TYPE, STATUS_BY_CODE, Problem
from chatsvg.entrypoints.http.security import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE

# --- security schemes -----------------------------------------------------------------------

COOKIE_AUTH = "cookieAuth"
REFRESH_AUTH = "refreshCookie"
CSRF_AUTH = "csrfHeader"
BEARER_AUTH = "bearerAuth"
API_KEY_AUTH = "apiKeyAuth"

SECURITY_SCHEMES: dict[str, SecurityScheme] = {
    "adminSession": SecurityScheme(
        type="apiKey",
        name="admin_session",
        security_scheme_in="cookie",
        description="The admin page's session (HttpOnly, SameSite=Lax, Path=/api/admin, 24 h), set "
        "by a mailed sign-in link; admin routes check Origin instead of a CSRF token.",
    ),
    COOKIE_AUTH: SecurityScheme(
        type="apiKey",
        name=ACCESS_COOKIE,
        security_scheme_in="cookie",
        description="The access JWT (15 minutes) that login, register and refresh set as the "
        "HttpOnly `token` cookie.",
    ),
    REFRESH_AUTH: SecurityScheme(
        type="apiKey",
        name=REFRESH_COOKIE,
        security_scheme_in="cookie",
        description="The opaque refresh token (HttpOnly, SameSite=Strict, Path=/api/auth); "
        "rotated on every refresh, and a spent one revokes its whole family.",
    ),
    CSRF_AUTH: SecurityScheme(
        type="apiKey",
        name="X-CSRF-Token",
        security_scheme_in="header",
        description=f"Double submit: every POST, PUT, PATCH and DELETE under /api sends the "
        f"value of the `{CSRF_COOKIE}` cookie (from GET /api/csrf) in this header. Not needed "
        "with a bearer token.",
    ),
    BEARER_AUTH: SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT",
        description="`Authorization: Bearer <access JWT>` instead of cookies; no CSRF header.",
    ),
    API_KEY_AUTH: SecurityScheme(
        type="apiKey",
        name="X-API-Key",
        security_scheme_in="header",
        description="An API key (`sk_live_...` or `sk_test_...`, from /api/keys) for the public "
        "/v1 API; no cookies, no CSRF header.",
    ),
}

# Who may call a route (any one of the listed alternatives). Unsafe methods with cookies also
# need the CSRF header; a bearer token never does.
SIGNED_IN: list[SecurityRequirement] = [{COOKIE_AUTH: []}, {BEARER_AUTH: []}]
SIGNED_IN_UNSAFE: list[SecurityRequirement] = [
    {COOKIE_AUTH: [], CSRF_AUTH: []},
    {BEARER_AUTH: []},
]
ANYONE: list[SecurityRequirement] = [{}]
ANYONE_OR_SIGNED_IN: list[SecurityRequirement] = [{}, {COOKIE_AUTH: []}, {BEARER_AUTH: []}]
CSRF_ONLY: list[SecurityRequirement] = [{CSRF_AUTH: []}]
API_KEY: list[SecurityRequirement] = [{API_KEY_AUTH: []}]
CSRF_OR_SIGNED_IN: list[SecurityRequirement] = [
    {CSRF_AUTH: []},
    {COOKIE_AUTH: [], CSRF_AUTH: []},
    {BEARER_AUTH: []},
]
REFRESH: list[SecurityRequirement] = [{REFRESH_AUTH: [], CSRF_AUTH: []}]
LOGOUT: list[SecurityRequirement] = [
    {REFRESH_AUTH: [], CSRF_AUTH: []},
    {COOKIE_AUTH: [], CSRF_AUTH: []},
    {BEARER_AUTH: []},
]

# --- problem answers --------------------------------------------------------------------------

# Groups of codes, by what a route does.
SERVER = ("INTERNAL_ERROR", "SERVICE_UNAVAILABLE")  # every route
JSON_BODY = ("VALIDATION_ERROR", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE")
CSRF = ("CSRF_FAILED",)
AUTH = ("UNAUTHENTICATED", "TOKEN_EXPIRED")
INPUT = ("VALIDATION_ERROR",)  # query or path parameters
RETRY_AFTER = {429: " (with Retry-After)", 503: " (with Retry-After when the database is away)"}


def problems(*codes: str) -> dict[int, ResponseSpec]:
    """The `responses=` of a route: one problem+json answer per status its codes map to (plus the
    server's own 500 and 503), each naming the `errorCode` values it may carry."""
    by_status: dict[int, list[str]] = {}
    for code in (*codes, *SERVER):
        listed = by_status.setdefault(STATUS_BY_CODE[code], [])
        if code not in listed:
            listed.append(code)
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
            description=f"{HTTPStatus(status).phrase}: errorCode "
            + ", ".join(f"`{c}`" for c in listed)
            + RETRY_AFTER.get(status, ""),
        )
        for status, listed in sorted(by_status.items())
    }


def no_body(status: int, description: str, *codes: str) -> dict[int, ResponseSpec]:
    """`responses=` for a route whose success answer has no body (204, 302): the documented
    answer replaces the one Litestar would infer from a `Response[None]` return type."""
    return {status: ResponseSpec(data_container=None, description=description), **problems(*codes)}


# --- headers and cookies set by code -----------------------------------------------------------

RATE_LIMIT_HEADERS = [
    ResponseHeader(
        name=name, value="0", documentation_only=True, description=description, required=False
    )
    for name, description in (
        ("X-RateLimit-Limit", "Requests allowed in the current window."),
        ("X-RateLimit-Remaining", "Requests left in the current window."),
        ("X-RateLimit-Reset", "When the window resets (Unix time, seconds)."),
    )
]

SESSION_COOKIES = [
    Cookie(
        key=ACCESS_COOKIE,
        documentation_only=True,
        httponly=True,
        samesite="lax",
        path="/",
        description="Access JWT, 15 minutes.",
    ),
    Cookie(
        key=REFRESH_COOKIE,
        documentation_only=True,
        httponly=True,
        samesite="strict",
        path="/api/auth",
        description="Refresh token: 7 days, 30 with rememberMe; rotated on every refresh.",
    ),
]

CSRF_COOKIES = [
    Cookie(
        key=CSRF_COOKIE,
        documentation_only=True,
        httponly=False,
        samesite="lax",
        path="/",
        description="Set only when the request had no valid one; 30 days.",
    )
]


def openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="ChatSVG API",
        version=version,
        description=(
            "The HTTP API of ChatSVG. Errors are application/problem+json (`Problem`). "
            "Sign in with POST /api/auth/login (cookies) or send `Authorization: Bearer`; "
            "with cookies, every POST/PATCH/DELETE sends `X-CSRF-Token` (GET /api/csrf). "
            "Live job updates come over Socket.IO at /socket.io/ (not described here). "
            "A client's guide: docs/api.md in the repository."
        ),
        path="/schema",
        render_plugins=[ScalarRenderPlugin()],
        components=Components(security_schemes=dict(SECURITY_SCHEMES)),
    )
