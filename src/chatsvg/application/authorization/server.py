"""The authorization server's use cases: register a client, check an authorization request, record
a consent, exchange a code, rotate a refresh token, revoke, and authenticate an access token.

Hand-written rather than Authlib's `AuthorizationServer`: that class and its grants call their
storage hooks synchronously from inside a framework request object (Flask, Django, Starlette
integrations), while every store here is async (SQLAlchemy on asyncpg/aiosqlite) and behind the
unit of work. The protocol rules are small and live in `domain/authorization`; Authlib checks what
we publish (the metadata documents, at start-up) and the tests check our PKCE against Authlib's.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chatsvg.application.authorization.registration import parse_registration, redirect_host
from chatsvg.application.ids import new_id, new_secret_token
from chatsvg.application.ports import Clock, UnitOfWork, UnitOfWorkFactory
from chatsvg.application.ports.keys import WindowLimiter
from chatsvg.domain.accounts.auth import hash_token
from chatsvg.domain.authorization.grants import (
    ACCESS,
    ACCESS_PREFIX,
    ACCESS_TOKEN_LIFETIME,
    CODE_PREFIX,
    REFRESH,
    REFRESH_PREFIX,
    REVOKE_GRANT,
    AuthorizationCode,
    CodeExchange,
    Grant,
    GrantToken,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    OAuthClient,
    OAuthProblem,
    check_access,
    check_code_challenge,
    check_scope,
    judge_code,
    judge_refresh,
)
from chatsvg.domain.errors import NotFound, RateLimited

# Registration needs no credentials and writes a row: a bound per client address.
REGISTRATIONS_PER_HOUR = 30
# A revoked or expired grant stays (unlisted) this long before the sweep deletes it.
ENDED_GRANTS_KEPT = timedelta(days=7)
# A registered client that no grant names is deleted this long after its registration: anyone
# can register one (30 an hour per address), and an assistant that registers afresh on each
# install would otherwise grow the table for ever. One whose user never consented within a month
# is told `invalid_client` and registers again, as RFC 7591 clients do.
UNUSED_CLIENTS_KEPT = timedelta(days=30)


class AuthorizeRefused(OAuthProblem):
    """An authorization request that cannot be sent back to the client (unknown client, or a
    redirect URI that is not one of its own): the user is shown the error instead."""


class RedirectError(OAuthProblem):
    """An authorization request error that goes back to the (verified) redirect URI."""

    def __init__(self, error: str, description: str, redirect_to: str) -> None:
        super().__init__(description)
        self.error = error
        self.redirect_to = redirect_to


@dataclass(frozen=True)
class AuthorizationRequest:
    client: OAuthClient
    redirect_uri: str
    state: str | None
    code_challenge: str
    scope: str

    @property
    def redirect_host(self) -> str:
        return redirect_host(self.redirect_uri)


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True)
class Caller:
    """Who an access token speaks for."""

    user_id: str
    grant_id: str
    client_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class GrantView:
    id: str
    client_id: str
    client_name: str
    client_uri: str | None
    scope: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime


class AuthorizationServer:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        issuer: str,
        resources: tuple[str, ...],
        limiter: WindowLimiter | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._limiter = limiter
        self.issuer = issuer
        self._resources = {r.rstrip("/") for r in resources}

    # Registration (RFC 7591) --------------------------------------------------------------
    async def register(self, body: object, *, requester: str = "-") -> OAuthClient:
        """`requester`: the client address, which the registrations per hour are counted by."""
        registration = parse_registration(body)
        if self._limiter is not None:
            decision = await self._limiter.hit(
                "oauth-register", requester, limit=REGISTRATIONS_PER_HOUR, window_seconds=3600
            )
            if not decision.allowed:
                raise RateLimited(
                    "Too many client registrations from this address; try again later.",
                    retry_after=decision.retry_after,
                    limit=decision.limit,
                    reset_at=decision.reset_at,
                )
        client = OAuthClient(
            id=new_id(),
            name=registration.name,
            redirect_uris=registration.redirect_uris,
            created_at=self._clock.now(),
            client_uri=registration.client_uri,
        )
        async with self._uow() as uow:
            await uow.authz_clients.add(client)
            await uow.commit()
        return client

    # The authorization endpoint -----------------------------------------------------------
    async def check_request(self, params: Mapping[str, str]) -> AuthorizationRequest:
        """The client and redirect URI first (errors shown, never redirected), then the rest
        (errors redirected to the now trusted redirect URI)."""
        client_id = params.get("client_id") or ""
        redirect_uri = params.get("redirect_uri")
        client = None
        if client_id and len(client_id) <= 64:
            async with self._uow() as uow:
                client = await uow.authz_clients.get(client_id)
        if client is None:
            raise AuthorizeRefused("Unknown client: this application is not registered here.")
        if not client.redirect_allowed(redirect_uri):
            raise AuthorizeRefused(
                "The redirect URI is not one this application registered; no code is sent there."
            )
        assert redirect_uri is not None
        state = params.get("state")

        def refuse(error: str, description: str) -> RedirectError:
            return RedirectError(
                error,
                description,
                with_query(
                    redirect_uri,
                    {"error": error, "error_description": description, "state": state},
                    self.issuer,
                ),
            )

        if params.get("response_type") != "code":
            raise refuse("unsupported_response_type", "response_type must be code.")
        try:
            challenge = check_code_challenge(
                params.get("code_challenge"), params.get("code_challenge_method")
            )
            scope = check_scope(params.get("scope"))
        except OAuthProblem as problem:
            raise refuse(problem.error, problem.description) from None
        resource = params.get("resource")
        if resource and resource.rstrip("/") not in self._resources:
            raise refuse("invalid_target", "This server issues tokens for its MCP endpoint only.")
        return AuthorizationRequest(client, redirect_uri, state, challenge, scope)

    async def approve(self, user_id: str, request: AuthorizationRequest) -> str:
        """Record the consent (a new grant) and answer where the browser goes: the redirect URI
        with a single-use code, the state and the issuer (RFC 9207)."""
        now = self._clock.now()
        code = CODE_PREFIX + new_secret_token()
        grant = Grant.start(
            grant_id=new_id(),
            user_id=user_id,
            client_id=request.client.id,
            scope=request.scope,
            now=now,
        )
        async with self._uow() as uow:
            if await uow.users.get(user_id) is None:
                raise NotFound("No such user.")
            await uow.authz_grants.add(grant)
            await uow.authz_grants.add_code(
                AuthorizationCode.issue(
                    code_hash=hash_token(code),
                    grant_id=grant.id,
                    redirect_uri=request.redirect_uri,
                    challenge=request.code_challenge,
                    now=now,
                )
            )
            await uow.commit()
        return with_query(request.redirect_uri, {"code": code, "state": request.state}, self.issuer)

    def deny(self, request: AuthorizationRequest) -> str:
        return with_query(
            request.redirect_uri,
            {
                "error": "access_denied",
                "error_description": "The user declined.",
                "state": request.state,
            },
            self.issuer,
        )

    # The token endpoint -------------------------------------------------------------------
    async def exchange_code(
        self,
        *,
        client_id: str | None,
        code: str | None,
        redirect_uri: str | None,
        code_verifier: str | None,
    ) -> IssuedTokens:
        if not client_id:
            raise InvalidClient("client_id is required (public clients send it in the body).")
        if not code:
            raise InvalidRequest("code is required.")
        now = self._clock.now()
        code_hash = hash_token(code)
        async with self._uow() as uow:
            stored = await uow.authz_grants.get_code(code_hash)
            grant = await uow.authz_grants.get(stored.grant_id) if stored else None
            decision = judge_code(
                stored, grant, CodeExchange(client_id, redirect_uri, code_verifier), now
            )
            assert grant is not None
            reused = "The authorization code was already used; its grant is revoked."
            spend = functools.partial(uow.authz_grants.use_code, code_hash, now)
            return await self._settle(uow, grant, now, decision == REVOKE_GRANT, spend, reused)

    async def refresh(self, *, client_id: str | None, refresh_token: str | None) -> IssuedTokens:
        if not client_id:
            raise InvalidClient("client_id is required (public clients send it in the body).")
        if not refresh_token:
            raise InvalidRequest("refresh_token is required.")
        now = self._clock.now()
        token_hash = hash_token(refresh_token)
        async with self._uow() as uow:
            token = await uow.authz_grants.get_token(token_hash)
            grant = await uow.authz_grants.get(token.grant_id) if token else None
            decision = judge_refresh(token, grant, client_id, now)
            assert grant is not None
            reused = "The refresh token was already used; its grant is revoked."
            spend = functools.partial(uow.authz_grants.spend_token, token_hash, now)
            return await self._settle(uow, grant, now, decision == REVOKE_GRANT, spend, reused)

    async def _settle(
        self,
        uow: UnitOfWork,
        grant: Grant,
        now: datetime,
        revoke: bool,
        spend: Callable[[], Awaitable[bool]],
        reused: str,
    ) -> IssuedTokens:
        """A new token pair for `grant` once `spend` has marked the presented code or refresh
        token used, in one transaction. A presentation judged to revoke the grant, or one whose
        code or token was already spent (it leaked, or two clients raced), revokes the whole
        grant instead, its newest tokens included, and is refused with `reused`."""
        if revoke or not await spend():
            await self._revoke(uow, grant, now)
            await uow.commit()
            raise InvalidGrant(reused)
        issued = await self._issue(uow, grant, now)
        await uow.commit()
        return issued

    async def _issue(self, uow: UnitOfWork, grant: Grant, now: datetime) -> IssuedTokens:
        access = ACCESS_PREFIX + new_secret_token()
        refresh = REFRESH_PREFIX + new_secret_token()
        access_expires = min(now + ACCESS_TOKEN_LIFETIME, grant.expires_at)
        for value, kind, expires in (
            (access, ACCESS, access_expires),
            (refresh, REFRESH, grant.expires_at),
        ):
            await uow.authz_grants.add_token(
                GrantToken(
                    token_hash=hash_token(value),
                    grant_id=grant.id,
                    kind=kind,
                    created_at=now,
                    expires_at=expires,
                )
            )
        grant.record_use(now)
        await uow.authz_grants.update(grant)
        return IssuedTokens(
            access_token=access,
            refresh_token=refresh,
            expires_in=max(1, int((access_expires - now).total_seconds())),
            scope=grant.scope,
        )

    @staticmethod
    async def _revoke(uow: UnitOfWork, grant: Grant, now: datetime) -> None:
        grant.revoke(now)
        await uow.authz_grants.update(grant)

    # Revocation (RFC 7009) ----------------------------------------------------------------
    async def revoke(self, *, token: str | None, client_id: str | None) -> None:
        """A refresh token revokes its whole grant; an access token only itself. Unknown tokens,
        and tokens of another client, are answered the same (200) and left alone."""
        if not token:
            raise InvalidRequest("token is required.")
        now = self._clock.now()
        token_hash = hash_token(token)
        async with self._uow() as uow:
            stored = await uow.authz_grants.get_token(token_hash)
            grant = await uow.authz_grants.get(stored.grant_id) if stored else None
            if stored is None or grant is None:
                return
            if client_id and client_id != grant.client_id:
                return
            if stored.kind == REFRESH:
                await self._revoke(uow, grant, now)
            else:
                await uow.authz_grants.spend_token(token_hash, now)
            await uow.commit()

    # The resource server's question ------------------------------------------------------
    async def authenticate(self, access_token: str | None) -> Caller:
        """Checked on every MCP request: a revoked grant or a deleted account stops at once."""
        now = self._clock.now()
        token = None
        grant = None
        if access_token and access_token.startswith(ACCESS_PREFIX) and len(access_token) < 200:
            async with self._uow() as uow:
                token = await uow.authz_grants.get_token(hash_token(access_token))
                grant = await uow.authz_grants.get(token.grant_id) if token else None
        grant = check_access(token, grant, now)
        return Caller(grant.user_id, grant.id, grant.client_id, grant.scopes)

    async def purge(self) -> int:
        """The periodic sweep: expired codes and tokens, grants that ended a week ago, and
        clients registered a month ago that no grant names."""
        now = self._clock.now()
        async with self._uow() as uow:
            gone = await uow.authz_grants.purge(now, now - ENDED_GRANTS_KEPT)
            gone += await uow.authz_clients.purge_unused(now - UNUSED_CLIENTS_KEPT)
            await uow.commit()
        return gone

    # The user's granted apps --------------------------------------------------------------
    async def grants(self, user_id: str) -> list[GrantView]:
        now = self._clock.now()
        async with self._uow() as uow:
            grants = await uow.authz_grants.live_for_user(user_id, now)
            views = []
            for grant in grants:
                client = await uow.authz_clients.get(grant.client_id)
                views.append(
                    GrantView(
                        id=grant.id,
                        client_id=grant.client_id,
                        client_name=client.name if client else "",
                        client_uri=client.client_uri if client else None,
                        scope=grant.scope,
                        created_at=grant.created_at,
                        last_used_at=grant.last_used_at,
                        expires_at=grant.expires_at,
                    )
                )
        return views

    async def revoke_grant(self, user_id: str, grant_id: str) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            grant = await uow.authz_grants.get(grant_id)
            if grant is None or grant.user_id != user_id or not grant.is_live(now):
                raise NotFound("No such granted application.")
            await self._revoke(uow, grant, now)
            await uow.commit()


def with_query(uri: str, params: Mapping[str, str | None], issuer: str) -> str:
    """The redirect URI with the response's parameters added to its own query (RFC 6749 3.1.2)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    query.append(("iss", issuer))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
