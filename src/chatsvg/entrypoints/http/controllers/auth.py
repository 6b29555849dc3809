"""`/api/auth` and `/api/csrf`: sign-up, sign-in, refresh with rotation, sign-out, sessions."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from chatsvg.application.accounts.auth import AuthService, SignedIn
from chatsvg.application.accounts.oauth import OAuthSignIn
from chatsvg.application.ports import AccessClaims, Clock, RateLimiter
from chatsvg.domain.errors import RefreshTokenReused, Unauthenticated
from chatsvg.entrypoints.http.deps import Inject, provide_claims
from chatsvg.entrypoints.http.openapi import (
    ANYONE,
    AUTH,
    CSRF,
    CSRF_COOKIES,
    CSRF_ONLY,
    INPUT,
    JSON_BODY,
    LOGOUT,
    RATE_LIMIT_HEADERS,
    REFRESH,
    SESSION_COOKIES,
    SIGNED_IN,
    SIGNED_IN_UNSAFE,
    no_body,
    problems,
)
from chatsvg.entrypoints.http.problems import handle_exception
from chatsvg.entrypoints.http.schemas import (
    AuthOptions,
    CsrfToken,
    LoginBody,
    RegisterBody,
    SessionList,
    User,
    UserEnvelope,
    session_json,
    user_json,
)
from chatsvg.entrypoints.http.security import (
    CSRF_COOKIE,
    NO_STORE,
    REFRESH_COOKIE,
    WebSecurity,
    access_token,
    enforce,
    with_rate_headers,
)

Req = Request[Any, Any, Any]


def _signed_in(
    request: Req, signed_in: SignedIn, status: int, security: WebSecurity, clock: Clock
) -> Response[UserEnvelope]:
    response = Response(
        UserEnvelope(user=user_json(signed_in.account)),
        status_code=status,
        cookies=security.session_cookies(signed_in, clock.now()),
        headers=NO_STORE,
    )
    return with_rate_headers(request, response)


@get(
    "/api/csrf",
    tags=["auth"],
    summary="The CSRF token to send as X-CSRF-Token",
    security=ANYONE,
    response_cookies=CSRF_COOKIES,
    responses=problems(),
)
async def csrf_token(request: Req, security: Inject[WebSecurity]) -> Response[CsrfToken]:
    current = request.cookies.get(CSRF_COOKIE)
    if current is not None and security.csrf_valid(current):
        return Response(CsrfToken(csrf_token=current), headers=NO_STORE)
    token = security.mint_csrf()
    return Response(
        CsrfToken(csrf_token=token), headers=NO_STORE, cookies=[security.csrf_cookie(token)]
    )


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post(
        "/register",
        status_code=HTTP_201_CREATED,
        summary="Create an account and sign in",
        security=CSRF_ONLY,
        response_cookies=SESSION_COOKIES,
        response_headers=RATE_LIMIT_HEADERS,
        responses=problems(*JSON_BODY, *CSRF, "EMAIL_TAKEN", "EMAIL_AUTH_DISABLED", "RATE_LIMITED"),
    )
    async def register(
        self,
        request: Req,
        data: RegisterBody,
        auth: Inject[AuthService],
        security: Inject[WebSecurity],
        limiter: Inject[RateLimiter],
        clock: Inject[Clock],
    ) -> Response[UserEnvelope]:
        client = security.client_info(request)
        enforce(await limiter.hit("register", client.ip_address or "-"), request)
        signed_in = await auth.register(
            email=data.email,
            password=data.password,
            name=data.name,
            agreed_to_terms=data.agreed_to_terms,
            client=client,
        )
        return _signed_in(request, signed_in, HTTP_201_CREATED, security, clock)

    @post(
        "/login",
        status_code=HTTP_200_OK,
        summary="Sign in with email and password",
        security=CSRF_ONLY,
        response_cookies=SESSION_COOKIES,
        responses=problems(
            *JSON_BODY, *CSRF, "INVALID_CREDENTIALS", "EMAIL_AUTH_DISABLED", "RATE_LIMITED"
        ),
    )
    async def login(
        self,
        request: Req,
        data: LoginBody,
        auth: Inject[AuthService],
        security: Inject[WebSecurity],
        clock: Inject[Clock],
    ) -> Response[UserEnvelope]:
        signed_in = await auth.login(
            email=data.email,
            password=data.password,
            remember_me=data.remember_me,
            client=security.client_info(request),
        )
        return _signed_in(request, signed_in, HTTP_200_OK, security, clock)

    @post(
        "/refresh",
        status_code=HTTP_200_OK,
        summary="New access token and rotated refresh token",
        security=REFRESH,
        response_cookies=SESSION_COOKIES,
        responses=problems(*CSRF, "UNAUTHENTICATED", "REFRESH_TOKEN_REUSED"),
    )
    async def refresh(
        self,
        request: Req,
        auth: Inject[AuthService],
        security: Inject[WebSecurity],
        clock: Inject[Clock],
    ) -> Response[UserEnvelope]:
        try:
            signed_in = await auth.refresh(
                request.cookies.get(REFRESH_COOKIE), client=security.client_info(request)
            )
        except (RefreshTokenReused, Unauthenticated) as exc:
            response = handle_exception(request, exc)
            for cookie in security.cleared_session_cookies():
                response.set_cookie(cookie)
            return response
        return _signed_in(request, signed_in, HTTP_200_OK, security, clock)

    @post(
        "/logout",
        status_code=HTTP_204_NO_CONTENT,
        summary="End this session; clears the session cookies",
        security=LOGOUT,
        responses=no_body(HTTP_204_NO_CONTENT, "Signed out; session cookies cleared.", *CSRF),
    )
    async def logout(
        self, request: Req, auth: Inject[AuthService], security: Inject[WebSecurity]
    ) -> Response[None]:
        session_id = None
        token = access_token(request)
        if token:
            try:
                session_id = (await auth.authenticate(token)).session_id
            except Exception:
                session_id = None
        await auth.logout(refresh_token=request.cookies.get(REFRESH_COOKIE), session_id=session_id)
        return Response(
            None, status_code=HTTP_204_NO_CONTENT, cookies=security.cleared_session_cookies()
        )

    @post(
        "/logout-all",
        status_code=HTTP_204_NO_CONTENT,
        dependencies={"claims": Provide(provide_claims)},
        summary="End every session of the user",
        security=SIGNED_IN_UNSAFE,
        responses=no_body(HTTP_204_NO_CONTENT, "Every session revoked.", *CSRF, *AUTH),
    )
    async def logout_all(
        self, claims: AccessClaims, auth: Inject[AuthService], security: Inject[WebSecurity]
    ) -> Response[None]:
        await auth.logout_all(claims.user_id)
        return Response(
            None, status_code=HTTP_204_NO_CONTENT, cookies=security.cleared_session_cookies()
        )

    @get(
        "/current-user",
        dependencies={"claims": Provide(provide_claims)},
        summary="The signed-in user (bare, not wrapped)",
        security=SIGNED_IN,
        responses=problems(*AUTH),
    )
    async def current_user(self, claims: AccessClaims, auth: Inject[AuthService]) -> Response[User]:
        account = await auth.account(claims.user_id)
        return Response(user_json(account), headers=NO_STORE)

    @get(
        "/sessions",
        dependencies={"claims": Provide(provide_claims)},
        summary="The user's live sessions (refresh-token families)",
        security=SIGNED_IN,
        responses=problems(*AUTH),
    )
    async def sessions(
        self, claims: AccessClaims, auth: Inject[AuthService]
    ) -> Response[SessionList]:
        views = await auth.sessions(claims.user_id, claims.session_id)
        return Response(SessionList(sessions=[session_json(v) for v in views]), headers=NO_STORE)

    @delete(
        "/sessions/{session_id:str}",
        status_code=HTTP_204_NO_CONTENT,
        dependencies={"claims": Provide(provide_claims)},
        summary="Revoke one session",
        security=SIGNED_IN_UNSAFE,
        responses=no_body(HTTP_204_NO_CONTENT, "Revoked.", *INPUT, *CSRF, *AUTH, "NOT_FOUND"),
    )
    async def revoke_session(
        self, claims: AccessClaims, session_id: str, auth: Inject[AuthService]
    ) -> None:
        await auth.revoke_session(claims.user_id, session_id)

    @get(
        "/options",
        summary="Which ways of signing in this server offers",
        security=ANYONE,
        responses=problems(),
    )
    async def options(self, auth: Inject[AuthService], oauth: Inject[OAuthSignIn]) -> AuthOptions:
        return AuthOptions(
            email_auth_enabled=auth.email_auth_enabled, oauth_providers=list(oauth.provider_names)
        )
