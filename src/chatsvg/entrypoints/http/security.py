"""Cookies, the CSRF double-submit, the client address, and who is calling."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.datastructures import Cookie

from chatsvg.application.accounts.auth import ClientInfo, SignedIn
from chatsvg.application.ports import RateDecision
from chatsvg.domain.errors import CsrfFailed, RateLimited
from chatsvg.entrypoints.http.problems import limit_headers
from chatsvg.entrypoints.settings import Settings

ACCESS_COOKIE = "token"
REFRESH_COOKIE = "refreshToken"
CSRF_COOKIE = "csrf-token"
CSRF_HEADER = "x-csrf-token"
REFRESH_PATH = "/api/auth"
CSRF_MAX_AGE = 30 * 24 * 3600
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Server-to-server calls without cookies, authenticated by their sender's signature instead.
CSRF_EXEMPT = frozenset({"/api/paypal/webhook"})
# The admin page's routes: its own session cookie, and an Origin check instead of the CSRF token
# (the web client's admin page sends none).
ADMIN_PREFIX = "/api/admin/"
ADMIN_COOKIE = "admin_session"
ADMIN_COOKIE_PATH = "/api/admin"


@dataclass(frozen=True)
class WebSecurity:
    """What the edge needs to know to check requests; built once from settings."""

    secret: bytes
    secure_cookies: bool
    web_origins: frozenset[str]
    own_origin: str
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> WebSecurity:
        return cls(
            secret=hashlib.sha256(b"chatsvg-csrf:" + settings.secret_key.encode()).digest(),
            secure_cookies=settings.secure_cookies,
            web_origins=frozenset(settings.all_web_origins),
            own_origin=settings.public_url.rstrip("/"),
            trusted_proxies=tuple(
                ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies
            ),
        )

    # CSRF tokens are random and HMAC-signed: a cookie planted by a sibling subdomain fails the check.
    def mint_csrf(self) -> str:
        nonce = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        return f"{nonce}.{self._csrf_mac(nonce)}"

    def _csrf_mac(self, nonce: str) -> str:
        return hmac.new(self.secret, nonce.encode(), hashlib.sha256).hexdigest()[:32]

    def csrf_valid(self, token: str | None) -> bool:
        if not token or "." not in token:
            return False
        nonce, _, mac = token.rpartition(".")
        return hmac.compare_digest(self._csrf_mac(nonce), mac)

    def origin_allowed(self, origin: str, request: Request[Any, Any, Any]) -> bool:
        origin = origin.rstrip("/")
        if origin in self.web_origins or origin == self.own_origin:
            return True
        host = request.headers.get("host", "")
        return origin in (f"http://{host}", f"https://{host}")

    def check_admin_origin(self, request: Request[Any, Any, Any]) -> None:
        """A browser names the page a request comes from: a change must come from one of ours,
        and a read that names another origin is refused too (a navigation, e.g. the mailed
        link, names none)."""
        origin = request.headers.get("origin")
        if origin is None and request.method in UNSAFE_METHODS:
            raise CsrfFailed("Requests to the admin API must come from the web app (Origin).")
        if origin is not None and (origin == "null" or not self.origin_allowed(origin, request)):
            raise CsrfFailed("Requests from this origin are not allowed.")

    def admin_cookie(self, token: str, max_age: int) -> Cookie:
        return self._cookie(ADMIN_COOKIE, token, max_age=max_age, path=ADMIN_COOKIE_PATH)

    def cleared_admin_cookie(self) -> Cookie:
        """The admin cookie with the attributes it was set with, expired."""
        return self._cookie(ADMIN_COOKIE, "", max_age=0, path=ADMIN_COOKIE_PATH)

    def check_csrf(self, request: Request[Any, Any, Any]) -> None:
        if request.url.path in CSRF_EXEMPT:
            return
        if request.url.path.startswith(ADMIN_PREFIX):
            self.check_admin_origin(request)
            return
        if request.method not in UNSAFE_METHODS or not request.url.path.startswith("/api/"):
            return
        if bearer_token(request) is not None:
            return  # not sent by a browser on its own: cookies are not involved
        header = request.headers.get(CSRF_HEADER)
        cookie = request.cookies.get(CSRF_COOKIE)
        if not header or not cookie or not hmac.compare_digest(header.encode(), cookie.encode()):
            raise CsrfFailed(
                "Missing or invalid CSRF token. Fetch /api/csrf and send it as X-CSRF-Token."
            )
        if not self.csrf_valid(cookie):
            raise CsrfFailed("Invalid CSRF token. Fetch a new one from /api/csrf.")
        origin = request.headers.get("origin")
        if origin is None:
            referer = request.headers.get("referer")
            if referer:
                parts = urlsplit(referer)
                origin = f"{parts.scheme}://{parts.netloc}"
        if origin is not None and origin != "null" and not self.origin_allowed(origin, request):
            raise CsrfFailed("Requests from this origin are not allowed.")
        if origin == "null":
            raise CsrfFailed("Requests from this origin are not allowed.")

    def client_ip(self, request: Request[Any, Any, Any]) -> str:
        peer = request.client.host if request.client else "0.0.0.0"  # noqa: S104 - a placeholder, not a bind
        if not self.trusted_proxies or not self._trusted(peer):
            return peer
        forwarded = [
            p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()
        ]
        # Walk from the nearest hop outwards; the first address not of our proxies is the client.
        for hop in reversed(forwarded):
            if not self._trusted(hop):
                return hop
        return forwarded[0] if forwarded else peer

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted_proxies)

    def client_info(self, request: Request[Any, Any, Any]) -> ClientInfo:
        return ClientInfo(
            user_agent=request.headers.get("user-agent"), ip_address=self.client_ip(request)
        )

    def _cookie(
        self,
        key: str,
        value: str,
        *,
        max_age: int,
        path: str = "/",
        httponly: bool = True,
        samesite: str = "lax",
    ) -> Cookie:
        return Cookie(
            key=key,
            value=value,
            max_age=max_age,
            path=path,
            httponly=httponly,
            secure=self.secure_cookies,
            samesite=samesite,  # type: ignore[arg-type]
        )

    def session_cookies(self, signed_in: SignedIn, now: datetime) -> list[Cookie]:
        access_age = max(1, round((signed_in.access_expires_at - now).total_seconds()))
        refresh_age = max(1, round((signed_in.refresh_expires_at - now).total_seconds()))
        return [
            self._cookie(ACCESS_COOKIE, signed_in.access_token, max_age=access_age),
            self._cookie(
                REFRESH_COOKIE,
                signed_in.refresh_token,
                max_age=refresh_age,
                path=REFRESH_PATH,
                samesite="strict",
            ),
        ]

    def cleared_session_cookies(self) -> list[Cookie]:
        return [
            self._cookie(ACCESS_COOKIE, "", max_age=0),
            self._cookie(REFRESH_COOKIE, "", max_age=0, path=REFRESH_PATH, samesite="strict"),
        ]

    def csrf_cookie(self, token: str) -> Cookie:
        return self._cookie(CSRF_COOKIE, token, max_age=CSRF_MAX_AGE, httponly=False)


def bearer(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    return bearer(request.headers.get("authorization", ""))


def access_token(request: Request[Any, Any, Any]) -> str | None:
    return bearer_token(request) or request.cookies.get(ACCESS_COOKIE)


def rate_headers(decision: RateDecision) -> dict[str, str]:
    return limit_headers(decision.limit, decision.remaining, decision.reset_at)


def enforce(decision: RateDecision, request: Request[Any, Any, Any]) -> None:
    """Raise 429 when over the limit; otherwise remember the headers for the response."""
    if not decision.allowed:
        raise RateLimited(
            retry_after=decision.retry_after, limit=decision.limit, reset_at=decision.reset_at
        )
    request.state.rate_headers = rate_headers(decision)


# An answer about one user (or one key) that no cache, shared or the browser's, may keep.
NO_STORE = {"Cache-Control": "no-store"}


def with_rate_headers(request: Request[Any, Any, Any], response: Response[Any]) -> Response[Any]:
    headers = getattr(request.state, "rate_headers", None)
    if headers:
        for name, value in headers.items():
            response.headers[name] = value
    return response
