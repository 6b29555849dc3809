"""The browser playground served at `/` in local mode (see issue 10).

The page is `static/playground/index.html`; its scripts, styles and the vendored socket.io-client
bundle are served under the one static path `/playground/`. The page carries a strict
Content-Security-Policy: scripts only from this origin (no inline script, no eval), network calls
and the Socket.IO websocket only to this origin, images only from this origin (or the configured
public URL, which signs the image links) and `blob:` (the live drafts, made by the page from the
sanitized SVG of `generation-job:draft`), no framing.

`GET /api/auth/playground-session` (only with the playground) tells the page, always with a 200,
who its cookies sign in (`user`, or null) and whether a refresh cookie came along (`canRefresh`):
the page can then show a session it did not start itself (another tab, an OAuth return, a sign-in
from devtools), refresh first when only the refresh cookie is left, and make no request bound to
fail on a signed-out visit. It lives under `/api/auth` because the refresh cookie is scoped there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from litestar import MediaType, Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

from chatsvg.application.accounts.auth import AuthService
from chatsvg.domain.errors import TokenExpired, Unauthenticated
from chatsvg.entrypoints.http.deps import Inject
from chatsvg.entrypoints.http.schemas import user_json
from chatsvg.entrypoints.http.security import ACCESS_COOKIE, REFRESH_COOKIE
from chatsvg.entrypoints.settings import Settings

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "playground"
ASSET_PATH = "/playground"
SESSION_PATH = "/api/auth/playground-session"
ADMIN_LINK_PATH = "/api/auth/playground-admin"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def content_security_policy(public_url: str | None = None, own_origin: str | None = None) -> str:
    """The page's policy. `'self'` also covers ws:/wss: to the same host (CSP Level 3). `blob:`
    images are the live drafts: sanitized SVG text shown by an <img> (no script runs there)."""
    images = ["'self'"]
    public = _origin(public_url or "")
    if public and public != own_origin:
        images.append(public)  # signed image links point at the configured public URL
    images.append("blob:")
    directives = {
        "default-src": "'none'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(images),
        "connect-src": "'self'",
        "font-src": "'self'",
        "manifest-src": "'self'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
        "object-src": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _add_asset_headers(response: Response[Any]) -> Response[Any]:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def playground_handlers() -> list[Any]:
    """Route handlers serving the playground page and its static assets."""
    page = (STATIC_DIR / "index.html").read_bytes()

    @get(
        "/",
        name="playground:index",
        media_type=MediaType.HTML,
        tags=["operations"],
        summary="The playground page (local mode): sign up, prompt, watch jobs, download",
        security=[{}],
    )
    async def index(request: Request[Any, Any, Any], settings: Inject[Settings]) -> Response[bytes]:
        public_url = settings.public_url
        own_origin = _origin(str(request.base_url))
        headers = {
            **SECURITY_HEADERS,
            "Content-Security-Policy": content_security_policy(public_url, own_origin),
            "Cache-Control": "no-cache",
        }
        return Response(page, media_type=MediaType.HTML, headers=headers)

    @get(SESSION_PATH, include_in_schema=False, name="playground:session")
    async def session(request: Request[Any, Any, Any], auth: Inject[AuthService]) -> Response[Any]:
        user = None
        token = request.cookies.get(ACCESS_COOKIE)
        if token:
            try:
                claims = await auth.authenticate(token)
                user = user_json(await auth.account(claims.user_id))
            except (TokenExpired, Unauthenticated):
                user = None  # expired, revoked or not ours: as if there were no access cookie
        # Only whether the cookie is there: the page's POST /api/auth/refresh judges (and rotates) it.
        can_refresh = user is None and bool(request.cookies.get(REFRESH_COOKIE))
        return Response(
            {"user": user, "canRefresh": can_refresh}, headers={"Cache-Control": "no-store"}
        )

    assets = create_static_files_router(
        path=ASSET_PATH,
        directories=[STATIC_DIR],
        name="playground:assets",
        after_request=_add_asset_headers,
        cache_control=CacheControlHeader(no_cache=True),
        include_in_schema=False,
    )

    @get(ADMIN_LINK_PATH, include_in_schema=False, name="playground:admin-link")
    async def admin_link(
        request: Request[Any, Any, Any], auth: Inject[AuthService], settings: Inject[Settings]
    ) -> Response[Any]:
        """`{adminUrl}`: the web app's admin page when the signed-in address is in ADMIN_EMAILS
        (the playground then shows an "Admin" link), else null."""
        url = None
        token = request.cookies.get(ACCESS_COOKIE)
        if token and settings.admin_email_set:
            try:
                account = await auth.account((await auth.authenticate(token)).user_id)
            except (TokenExpired, Unauthenticated):
                account = None
            if account is not None and account.user.email.lower() in settings.admin_email_set:
                url = settings.admin_page_url
        return Response({"adminUrl": url}, headers={"Cache-Control": "no-store"})

    return [index, session, admin_link, assets]
