"""The browser side of the OAuth 2.1 authorization server: the consent page at `/oauth/authorize`
and the sign-in a signed-out visitor goes through on the way (`/oauth/sign-in`).

The page names the application (as it registered itself: a claim, so it is shown as such) and the
host the authorization code will be sent to, which is what a user must judge. The visitor is
identified by the web app's own cookie session (the `token` cookie); the form carries the
`csrf-token` cookie's value as `csrf_token` (double submit) and, when the browser sends `Origin`,
it must be this server's. The pages run no script, may not be framed, and their CSP lets the form
post only here and the redirect go only to the client's registered host.
"""

from __future__ import annotations

import hmac
import html
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.status_codes import HTTP_303_SEE_OTHER

from chatsvg.application.accounts.auth import AuthService
from chatsvg.application.authorization.registration import redirect_host
from chatsvg.application.authorization.server import (
    AuthorizationRequest,
    AuthorizationServer,
    RedirectError,
)
from chatsvg.application.ports import Clock
from chatsvg.domain.authorization.grants import SCOPE_GENERATE, SCOPE_READ, OAuthProblem
from chatsvg.domain.errors import DomainError, RateLimited, TokenExpired, Unauthenticated
from chatsvg.entrypoints.http.controllers.accounts import OAuthWeb, safe_redirect_path
from chatsvg.entrypoints.http.controllers.authorization import no_request_check, read_form
from chatsvg.entrypoints.http.deps import Inject
from chatsvg.entrypoints.http.security import ACCESS_COOKIE, CSRF_COOKIE, WebSecurity

Req = Request[Any, Any, Any]
AUTHORIZE_PATH = "/oauth/authorize"
SIGN_IN_PATH = "/oauth/sign-in"
# The authorization request's parameters, carried from the page to its form post unchanged.
REQUEST_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "state",
    "code_challenge",
    "code_challenge_method",
    "scope",
    "resource",
)
SCOPE_TEXT = {
    SCOPE_GENERATE: "Generate SVGs on your account (each generation spends credits)",
    SCOPE_READ: "Read the status and results of your generations",
}
STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;"
    "color:#1b1b1f}h1{font-size:1.4rem}.box{border:1px solid #d0d0d7;border-radius:8px;"
    "padding:1rem 1.25rem}.muted{color:#5b5b66;font-size:.9rem}code{word-break:break-all}"
    "button{font:inherit;padding:.5rem 1.2rem;margin-right:.5rem;border-radius:6px;"
    "border:1px solid #888;cursor:pointer}button.primary{background:#2d5bd7;color:#fff;"
    "border-color:#2d5bd7}label{display:block;margin:.6rem 0 .2rem}input[type=email],"
    "input[type=password]{width:100%;padding:.4rem;font:inherit;box-sizing:border-box}"
    ".error{color:#a01919}"
)


def _page(
    title: str,
    body: str,
    *,
    status: int = 200,
    form_targets: str = "'self'",
    cookies: list[Cookie] | None = None,
) -> Response[str]:
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)} · ChatSVG</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; "
        f"form-action {form_targets}; frame-ancestors 'none'"
    )
    return Response(
        document,
        status_code=status,
        media_type=MediaType.HTML,
        headers={
            "Content-Security-Policy": csp,
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            # Not no-referrer: with it, Chromium sends `Origin: null` on the page's own form post.
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
        },
        cookies=cookies or [],
    )


def _see_other(location: str, cookies: list[Cookie] | None = None) -> Response[None]:
    return Response(
        content=None,
        status_code=HTTP_303_SEE_OTHER,
        headers={
            "Location": location,
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
        cookies=cookies or [],
    )


def _refused(message: str, status: int = 400) -> Response[str]:
    return _page(
        "Authorization refused",
        f"<h1>This request cannot be authorized</h1><p class=error>{html.escape(message)}</p>"
        "<p class=muted>No code was sent anywhere. Go back to the application and try again.</p>",
        status=status,
    )


def _error_for_client(error: RedirectError) -> Response[str]:
    """An authorization request error for a known client and redirect URI: shown, with a link
    that carries the error back to the application. Never an automatic redirect: anyone can
    register any https redirect URI, so sending the browser there unasked would make this server
    an open redirector (RFC 9700, section 4.11.2)."""
    host = redirect_host(error.redirect_to)
    return _page(
        "Authorization refused",
        f"<h1>This request cannot be authorized</h1>"
        f"<p class=error>{html.escape(error.description)}</p>"
        "<p class=muted>No code was sent anywhere.</p>"
        f'<p><a href="{html.escape(error.redirect_to)}">Return to the application at '
        f"<b>{html.escape(host)}</b></a></p>",
        status=400,
    )


def _params(source: Mapping[str, Any]) -> dict[str, str]:
    return {k: v for k in REQUEST_PARAMS if isinstance(v := source.get(k), str) and v}


def _authorize_path(params: Mapping[str, str]) -> str:
    return f"{AUTHORIZE_PATH}?{urlencode(params)}"


def _sign_in_path(params: Mapping[str, str]) -> str:
    """The sign-in page, which comes back to this authorization request."""
    return f"{SIGN_IN_PATH}?{urlencode({'next': _authorize_path(params)})}"


async def _user_id(request: Req, auth: AuthService) -> str | None:
    try:
        claims = await auth.authenticate(request.cookies.get(ACCESS_COOKIE))
    except (Unauthenticated, TokenExpired):
        return None
    return claims.user_id


def _csrf(request: Req, security: WebSecurity) -> tuple[str, list[Cookie]]:
    """The visitor's CSRF token, minted (and set) only when absent or not ours."""
    token = request.cookies.get(CSRF_COOKIE)
    if token and security.csrf_valid(token):
        return token, []
    token = security.mint_csrf()
    return token, [security.csrf_cookie(token)]


def _csrf_ok(request: Req, form: Mapping[str, str], security: WebSecurity) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    sent = form.get("csrf_token") or ""
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        return False
    if not security.csrf_valid(cookie):
        return False
    origin = request.headers.get("origin")
    return origin is None or (origin != "null" and security.origin_allowed(origin, request))


def _hidden(params: Mapping[str, str]) -> str:
    return "".join(
        f'<input type=hidden name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
    )


def _origin_of(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _consent_page(
    request: AuthorizationRequest,
    params: Mapping[str, str],
    email: str,
    csrf: str,
    cookies: list[Cookie],
) -> Response[str]:
    client = request.client
    scopes = "".join(f"<li>{html.escape(SCOPE_TEXT[s])}</li>" for s in request.scope.split())
    site = (
        f" <span class=muted>(says it is <code>{html.escape(client.client_uri)}</code>)</span>"
        if client.client_uri
        else ""
    )
    switch = _sign_in_path(params)
    body = (
        f"<h1>Allow <q>{html.escape(client.name)}</q> to use your ChatSVG account?</h1>"
        f"<div class=box><p>The application calls itself <b>{html.escape(client.name)}</b>{site}."
        " ChatSVG cannot vouch for that name.</p>"
        f"<p>If you allow it, ChatSVG sends an authorization code to "
        f"<b>{html.escape(request.redirect_host)}</b><br>"
        f"<span class=muted>(<code>{html.escape(request.redirect_uri)}</code>)</span></p>"
        f"<p>It will be able to:</p><ul>{scopes}</ul>"
        "<p class=muted>You can revoke this at any time; its access ends at once.</p></div>"
        f"<p>Signed in as <b>{html.escape(email)}</b>. "
        f'<a href="{html.escape(switch)}">Not you?</a></p>'
        f'<form method=post action="{AUTHORIZE_PATH}">{_hidden(params)}'
        f'<input type=hidden name="csrf_token" value="{html.escape(csrf)}">'
        "<button class=primary type=submit name=decision value=approve>Allow</button>"
        "<button type=submit name=decision value=deny>Deny</button></form>"
    )
    return _page(
        "Authorize an application",
        body,
        form_targets=f"'self' {_origin_of(request.redirect_uri)}",
        cookies=cookies,
    )


def _sign_in_page(
    next_path: str,
    csrf: str,
    web_app_url: str,
    *,
    error: str | None = None,
    status: int = 200,
    cookies: list[Cookie] | None = None,
) -> Response[str]:
    problem = f"<p class=error>{html.escape(error)}</p>" if error else ""
    body = (
        "<h1>Sign in to ChatSVG</h1>"
        "<p>An application asks for access to your account. Sign in first; you will then see"
        " what it asks for and decide.</p>"
        f'{problem}<form method=post action="{SIGN_IN_PATH}">'
        f'<input type=hidden name="next" value="{html.escape(next_path)}">'
        f'<input type=hidden name="csrf_token" value="{html.escape(csrf)}">'
        "<label for=email>Email</label><input id=email type=email name=email required "
        "autocomplete=username>"
        "<label for=password>Password</label><input id=password type=password name=password "
        "required autocomplete=current-password><p>"
        "<button class=primary type=submit>Sign in</button></p></form>"
        f'<p class=muted>Signed up with Google or GitHub? <a href="{html.escape(web_app_url)}">'
        "Sign in on ChatSVG</a> in this browser, then return to the application and connect"
        " again.</p>"
    )
    return _page("Sign in", body, status=status, cookies=cookies)


def _next_path(value: str | None) -> str:
    """Only ever back to the authorization page, on this server."""
    path = safe_redirect_path(value)
    return path if path.startswith(AUTHORIZE_PATH + "?") else AUTHORIZE_PATH


class ConsentController(Controller):
    path = "/"
    include_in_schema = False  # HTML pages for browsers
    before_request = no_request_check  # type: ignore[assignment]  # Litestar calls it unbound
    # A refused request (AuthorizeRefused, or a bad form) is shown; an error for a known client
    # is shown with a link back to it.
    exception_handlers = {
        OAuthProblem: lambda _, exc: _refused(exc.description),
        RedirectError: lambda _, exc: _error_for_client(exc),
    }

    @get(AUTHORIZE_PATH, name="oauth:authorize")
    async def authorize(
        self,
        request: Req,
        authorization: Inject[AuthorizationServer],
        auth: Inject[AuthService],
        security: Inject[WebSecurity],
    ) -> Response[Any]:
        params = _params(request.query_params)
        checked = await authorization.check_request(params)
        user_id = await _user_id(request, auth)
        if user_id is None:
            return _see_other(_sign_in_path(params))
        account = await auth.account(user_id)
        csrf, cookies = _csrf(request, security)
        return _consent_page(checked, params, account.user.email, csrf, cookies)

    @post(AUTHORIZE_PATH, name="oauth:decide", status_code=HTTP_303_SEE_OTHER)
    async def decide(
        self,
        request: Req,
        authorization: Inject[AuthorizationServer],
        auth: Inject[AuthService],
        security: Inject[WebSecurity],
    ) -> Response[Any]:
        form = await read_form(request)
        params = _params(form)
        if not _csrf_ok(request, form, security):
            return _refused("The form expired or did not come from this site; reload it.", 403)
        checked = await authorization.check_request(params)
        user_id = await _user_id(request, auth)
        if user_id is None:
            return _see_other(_sign_in_path(params))
        decision = form.get("decision")
        if decision == "approve":
            return _see_other(await authorization.approve(user_id, checked))
        if decision == "deny":
            return _see_other(authorization.deny(checked))
        return _refused("Choose Allow or Deny.")

    @get(SIGN_IN_PATH, name="oauth:sign-in")
    async def sign_in_page(
        self, request: Req, security: Inject[WebSecurity], oauth_web: Inject[OAuthWeb]
    ) -> Response[str]:
        csrf, cookies = _csrf(request, security)
        next_path = _next_path(request.query_params.get("next"))
        return _sign_in_page(next_path, csrf, oauth_web.web_app_url, cookies=cookies)

    @post(SIGN_IN_PATH, name="oauth:sign-in-post", status_code=HTTP_303_SEE_OTHER)
    async def sign_in(
        self,
        request: Req,
        auth: Inject[AuthService],
        security: Inject[WebSecurity],
        clock: Inject[Clock],
        oauth_web: Inject[OAuthWeb],
    ) -> Response[Any]:
        form = await read_form(request)
        next_path = _next_path(form.get("next"))
        if not _csrf_ok(request, form, security):
            csrf, cookies = _csrf(request, security)
            return _sign_in_page(
                next_path,
                csrf,
                oauth_web.web_app_url,
                cookies=cookies,
                status=403,
                error="The form expired; try again.",
            )
        try:
            signed_in = await auth.login(
                email=form.get("email", ""),
                password=form.get("password", ""),
                remember_me=False,
                client=security.client_info(request),
            )
        except DomainError as error:
            csrf, cookies = _csrf(request, security)
            status = 429 if isinstance(error, RateLimited) else 401
            return _sign_in_page(
                next_path,
                csrf,
                oauth_web.web_app_url,
                cookies=cookies,
                status=status,
                error=error.message,
            )
        return _see_other(next_path, security.session_cookies(signed_in, clock.now()))
