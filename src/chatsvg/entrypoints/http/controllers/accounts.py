"""`/api/auth`: forgot and reset password, and sign-in with Google and GitHub.

OAuth at the edge: the start route keeps `state`, the OIDC nonce, the PKCE verifier and the
relative path to return to in a short-lived HMAC-signed cookie (HttpOnly, SameSite=Lax so that it
comes back on the provider's top-level redirect, Path=/api/auth); the callback accepts only a
`state` equal to the cookie's, for the same provider, before the cookie expires, and clears it.
After sign-in the browser goes to the web app plus a *relative* path only; anything else goes to
"/". Errors go to the web app's sign-in page with `?error=<reason>`, never to a problem document.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.status_codes import HTTP_200_OK, HTTP_302_FOUND

from chatsvg.application.accounts.oauth import OAuthSignIn
from chatsvg.application.accounts.ports import OAuthFailed
from chatsvg.application.accounts.recovery import PasswordRecovery
from chatsvg.application.ports import Clock
from chatsvg.entrypoints.http.deps import Inject
from chatsvg.entrypoints.http.openapi import ANYONE, CSRF, CSRF_ONLY, JSON_BODY, no_body, problems
from chatsvg.entrypoints.http.schemas import ForgotPasswordBody, OkMessage, ResetPasswordBody
from chatsvg.entrypoints.http.security import NO_STORE, WebSecurity

log = logging.getLogger("chatsvg.http.accounts")

Req = Request[Any, Any, Any]
STATE_COOKIE = "oauth-state"
STATE_PATH = "/api/auth"
REDIRECT_MAX = 2048
PROVIDERS = ("google", "github")


@dataclass
class OAuthWeb:
    """The OAuth redirects' side of the edge: the sealed state cookie and where browsers go."""

    state: OAuthStateSealer
    web_app_url: str
    sign_in_path: str
    public_url: str
    secure_cookies: bool

    def callback_uri(self, provider: str) -> str:
        return f"{self.public_url}/api/auth/{provider}/callback"

    def state_cookie(self, value: str, max_age: int) -> Cookie:
        return Cookie(
            key=STATE_COOKIE,
            value=value,
            max_age=max_age,
            path=STATE_PATH,
            httponly=True,
            secure=self.secure_cookies,
            samesite="lax",
        )


class PendingSignIn(msgspec.Struct, frozen=True):
    provider: str
    state: str
    nonce: str
    verifier: str
    redirect_path: str
    expires_at: float


class OAuthStateSealer:
    """Signs the pending sign-in into a cookie value and checks it on the way back."""

    def __init__(self, secret_key: str, lifetime_seconds: int) -> None:
        self._key = hashlib.sha256(b"chatsvg-oauth-state:" + secret_key.encode()).digest()
        self.lifetime_seconds = lifetime_seconds

    def seal(self, pending: PendingSignIn) -> str:
        payload = base64.urlsafe_b64encode(msgspec.json.encode(pending)).decode().rstrip("=")
        return f"{payload}.{self._mac(payload)}"

    def open(self, value: str | None, now: float) -> PendingSignIn | None:
        if not value or "." not in value or len(value) > 4096:
            return None
        payload, _, mac = value.rpartition(".")
        if not hmac.compare_digest(self._mac(payload), mac):
            return None
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            pending = msgspec.json.decode(raw, type=PendingSignIn)
        except (ValueError, msgspec.DecodeError):
            return None
        return pending if now < pending.expires_at else None

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


def safe_redirect_path(value: str | None) -> str:
    """A path on the web app, or "/": no scheme, no host, no protocol-relative or backslash tricks."""
    if not value or len(value) > REDIRECT_MAX:
        return "/"
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    # Printable ASCII only (clients percent-encode the rest): no control characters, and nothing
    # a Location header cannot carry.
    if not all(0x20 < ord(ch) < 0x7F for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def _redirect(location: str, cookies: list[Cookie]) -> Response[None]:
    return Response(
        content=None,
        status_code=HTTP_302_FOUND,
        headers={"Location": location, "Referrer-Policy": "no-referrer", **NO_STORE},
        cookies=cookies,
    )


def _provider_of(request: Req) -> str:
    parts = request.url.path.rstrip("/").split("/")
    name = parts[-2] if parts[-1] == "callback" else parts[-1]
    assert name in PROVIDERS
    return name


class AccountsController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post(
        "/forgot-password",
        status_code=HTTP_200_OK,
        summary="Mail a password reset link (the same answer whether or not the address exists)",
        security=CSRF_ONLY,
        responses=problems(*JSON_BODY, *CSRF, "EMAIL_AUTH_DISABLED", "RATE_LIMITED"),
    )
    async def forgot_password(
        self, data: ForgotPasswordBody, recovery: Inject[PasswordRecovery]
    ) -> Response[OkMessage]:
        message = await recovery.forgot_password(data.email)
        return Response(OkMessage(ok=True, message=message), headers=NO_STORE)

    @post(
        "/reset-password",
        status_code=HTTP_200_OK,
        summary="Set a new password with a reset token; every session is revoked",
        security=CSRF_ONLY,
        responses=problems(*JSON_BODY, *CSRF, "INVALID_RESET_TOKEN", "EMAIL_AUTH_DISABLED"),
    )
    async def reset_password(
        self,
        data: ResetPasswordBody,
        recovery: Inject[PasswordRecovery],
        security: Inject[WebSecurity],
    ) -> Response[OkMessage]:
        await recovery.reset_password(data.token, data.new_password)
        # Every session ended, this browser's included: drop its now useless cookies.
        return Response(
            OkMessage(ok=True, message="Your password has been changed. Sign in again."),
            headers=NO_STORE,
            cookies=security.cleared_session_cookies(),
        )

    @get(
        ["/google", "/github"],
        summary="Start signing in with an OAuth provider",
        description="`?redirectUrl=/path` (a relative path on the web app) is where the browser "
        "lands after signing in. Answers 302 to the provider, or 404 when it is not configured "
        "(see GET /api/auth/options).",
        status_code=HTTP_302_FOUND,
        security=ANYONE,
        responses=no_body(HTTP_302_FOUND, "To the provider's sign-in page.", "NOT_FOUND"),
    )
    async def start_oauth(
        self, request: Req, oauth: Inject[OAuthSignIn], oauth_web: Inject[OAuthWeb]
    ) -> Response[None]:
        f = oauth_web
        redirect_url = request.query_params.get("redirectUrl")
        provider = _provider_of(request)
        start = oauth.start(provider, redirect_uri=f.callback_uri(provider))
        pending = PendingSignIn(
            provider=provider,
            state=start.state,
            nonce=start.nonce,
            verifier=start.code_verifier,
            redirect_path=safe_redirect_path(redirect_url),
            expires_at=time.time() + f.state.lifetime_seconds,
        )
        cookie = f.state_cookie(f.state.seal(pending), f.state.lifetime_seconds)
        return _redirect(start.url, [cookie])

    @get(
        ["/google/callback", "/github/callback"],
        summary="Where the OAuth provider sends the browser back",
        description="Signs in (sets the session cookies) and answers 302 to the web app; every "
        "failure is a 302 to the web app's sign-in page with `?error=<reason>`, never a "
        "problem document.",
        status_code=HTTP_302_FOUND,
        security=ANYONE,
        responses=no_body(HTTP_302_FOUND, "To the web app (or its sign-in page with ?error=)."),
    )
    async def oauth_callback(
        self,
        request: Req,
        oauth: Inject[OAuthSignIn],
        oauth_web: Inject[OAuthWeb],
        security: Inject[WebSecurity],
        clock: Inject[Clock],
    ) -> Response[None]:
        f = oauth_web
        # Read by hand: a malformed callback must end on the sign-in page, not in a 400 document.
        code = request.query_params.get("code")
        state = request.query_params.get("state")
        error = request.query_params.get("error")
        provider = _provider_of(request)
        cleared = f.state_cookie("", 0)
        pending = f.state.open(request.cookies.get(STATE_COOKIE), time.time())

        def refuse(reason: str) -> Response[None]:
            query = urlencode({"error": reason})
            return _redirect(f"{f.web_app_url}{f.sign_in_path}?{query}", [cleared])

        if error:
            return refuse("access_denied" if error == "access_denied" else "provider_error")
        if (
            pending is None
            or pending.provider != provider
            or not state
            or not hmac.compare_digest(pending.state.encode(), state.encode())
        ):
            return refuse("invalid_state")
        if not code:
            return refuse("provider_error")
        try:
            signed_in = await oauth.finish(
                provider,
                code=code,
                redirect_uri=f.callback_uri(provider),
                code_verifier=pending.verifier,
                nonce=pending.nonce,
                client=security.client_info(request),
            )
        except OAuthFailed as failed:
            log.info("%s sign-in refused: %s (%s)", provider, failed.reason, failed.detail)
            return refuse(failed.reason)
        except Exception:
            log.exception("%s sign-in failed", provider)
            return refuse("server_error")
        cookies = [*security.session_cookies(signed_in, clock.now()), cleared]
        return _redirect(f"{f.web_app_url}{safe_redirect_path(pending.redirect_path)}", cookies)
