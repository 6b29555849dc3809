"""Clients, grants, authorization codes and tokens, and the rules that judge what a presented
code or token earns.

A *grant* is one consent: a user allowed a client, for a scope, until the grant's expiry. It plays
the part a refresh-token family plays for web sessions: its tokens rotate (each refresh spends the
presented refresh token and issues the next), rotation never extends the grant, and a spent refresh
token presented again means it leaked, so the whole grant dies, the access tokens it issued
included (they are opaque and looked up on every request, so they die with it). A code presented a
second time revokes its grant for the same reason (OAuth 2.1, section 4.1.3).

Codes and tokens are random strings the client holds; only their SHA-256 is stored
(`hash_token`, as for the sessions of `domain/accounts`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

CODE_LIFETIME = timedelta(minutes=2)
ACCESS_TOKEN_LIFETIME = timedelta(minutes=15)
GRANT_LIFETIME = timedelta(days=30)

SCOPE_GENERATE = "generate:svg"
SCOPE_READ = "read:generation"
SCOPES = (SCOPE_GENERATE, SCOPE_READ)

ACCESS = "access"
REFRESH = "refresh"

# The prefixes say what a string is when it turns up in a log or a paste; the rest is random.
ACCESS_PREFIX = "csat_"
REFRESH_PREFIX = "csrt_"
CODE_PREFIX = "csac_"

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


class OAuthProblem(Exception):
    """An RFC 6749 error: `error` is the registered code, `description` is for people."""

    error = "invalid_request"
    status = 400

    def __init__(self, description: str) -> None:
        self.description = description
        super().__init__(description)


class InvalidRequest(OAuthProblem):
    error = "invalid_request"


class InvalidClient(OAuthProblem):
    error = "invalid_client"
    status = 401


class InvalidGrant(OAuthProblem):
    error = "invalid_grant"


class UnsupportedGrantType(OAuthProblem):
    error = "unsupported_grant_type"


class InvalidScope(OAuthProblem):
    error = "invalid_scope"


class InvalidRedirectUri(OAuthProblem):
    error = "invalid_redirect_uri"  # RFC 7591, section 3.2.2


class InvalidClientMetadata(OAuthProblem):
    error = "invalid_client_metadata"


class InvalidToken(OAuthProblem):
    """An access token that is unknown, expired, or whose grant is gone (RFC 6750)."""

    error = "invalid_token"
    status = 401


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636, section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


_VERIFIER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def pkce_matches(verifier: str | None, challenge: str) -> bool:
    if not verifier or not 43 <= len(verifier) <= 128 or not set(verifier) <= _VERIFIER_CHARS:
        return False
    return hmac.compare_digest(s256(verifier), challenge)


def check_code_challenge(challenge: str | None, method: str | None) -> str:
    """PKCE is required, and only S256 (OAuth 2.1): `plain` would hand the verifier to anyone who
    sees the authorization request."""
    if not challenge:
        raise InvalidRequest("code_challenge is required (PKCE with S256).")
    if method != "S256":
        raise InvalidRequest("code_challenge_method must be S256.")
    if not 43 <= len(challenge) <= 128 or not set(challenge) <= _VERIFIER_CHARS:
        raise InvalidRequest("code_challenge is not a valid S256 challenge.")
    return challenge


def check_scope(requested: str | None) -> str:
    """The scope a client asks for, normalised; every scope when it asks for none."""
    if not requested or not requested.strip():
        return " ".join(SCOPES)
    # `offline_access` asks for a refresh token, which every grant here gets anyway.
    wanted = [s for s in requested.split() if s != "offline_access"]
    if not wanted:
        return " ".join(SCOPES)
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise InvalidScope(f"Unknown scope: {' '.join(unknown)}.")
    return " ".join(s for s in SCOPES if s in wanted)


def check_redirect_uri(scheme: str, host: str, *, has_fragment: bool, has_userinfo: bool) -> None:
    """The registration rule for a redirect URI, given its parsed parts: https anywhere, plain
    http only to the user's own machine (a loopback host, RFC 8252), never a fragment or
    credentials in the URI. Exact matching happens later, at the authorization request."""
    if has_fragment:
        raise InvalidRedirectUri("A redirect URI must not contain a fragment.")
    if has_userinfo:
        raise InvalidRedirectUri("A redirect URI must not contain credentials.")
    if not host:
        raise InvalidRedirectUri("A redirect URI needs a host.")
    if scheme == "https":
        return
    if scheme == "http" and host.lower() in LOOPBACK_HOSTS:
        return
    raise InvalidRedirectUri("Redirect URIs must use https, or http on a loopback host.")


@dataclass
class OAuthClient:
    """A dynamically registered public client (no secret: PKCE proves the caller instead)."""

    id: str
    name: str
    redirect_uris: list[str]
    created_at: datetime
    client_uri: str | None = None

    def redirect_allowed(self, redirect_uri: str | None) -> bool:
        """Exact string comparison with a registered URI (OAuth 2.1, section 2.3.1)."""
        return redirect_uri is not None and redirect_uri in self.redirect_uris


@dataclass
class Grant:
    id: str
    user_id: str
    client_id: str
    scope: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime
    revoked_at: datetime | None = None

    @classmethod
    def start(
        cls, *, grant_id: str, user_id: str, client_id: str, scope: str, now: datetime
    ) -> Grant:
        return cls(
            id=grant_id,
            user_id=user_id,
            client_id=client_id,
            scope=scope,
            created_at=now,
            expires_at=now + GRANT_LIFETIME,
            last_used_at=now,
        )

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = now

    def record_use(self, now: datetime) -> None:
        self.last_used_at = now

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.scope.split())


@dataclass
class AuthorizationCode:
    code_hash: str
    grant_id: str
    redirect_uri: str
    code_challenge: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    @classmethod
    def issue(
        cls, *, code_hash: str, grant_id: str, redirect_uri: str, challenge: str, now: datetime
    ) -> AuthorizationCode:
        return cls(
            code_hash=code_hash,
            grant_id=grant_id,
            redirect_uri=redirect_uri,
            code_challenge=challenge,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )


@dataclass
class GrantToken:
    token_hash: str
    grant_id: str
    kind: str  # ACCESS or REFRESH
    created_at: datetime
    expires_at: datetime
    spent_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.spent_at is None and now < self.expires_at


@dataclass(frozen=True)
class CodeExchange:
    """What the client presented at the token endpoint with grant_type=authorization_code."""

    client_id: str
    redirect_uri: str | None
    code_verifier: str | None


REVOKE_GRANT = "revoke_grant"
ISSUE = "issue"


def judge_code(
    code: AuthorizationCode | None,
    grant: Grant | None,
    exchange: CodeExchange,
    now: datetime,
) -> str:
    """ISSUE tokens, or REVOKE_GRANT (a code used twice); raises InvalidGrant for anything else."""
    if code is None or grant is None:
        raise InvalidGrant("The authorization code is not valid.")
    if grant.client_id != exchange.client_id:
        raise InvalidGrant("The authorization code was issued to another client.")
    if code.used_at is not None:
        return REVOKE_GRANT
    if now >= code.expires_at or not grant.is_live(now):
        raise InvalidGrant("The authorization code has expired.")
    if exchange.redirect_uri != code.redirect_uri:
        raise InvalidGrant("redirect_uri does not match the authorization request.")
    if not pkce_matches(exchange.code_verifier, code.code_challenge):
        raise InvalidGrant("The code_verifier does not match the code_challenge.")
    return ISSUE


def judge_refresh(
    token: GrantToken | None, grant: Grant | None, client_id: str, now: datetime
) -> str:
    """ISSUE a rotated pair, or REVOKE_GRANT (a spent refresh token came back: the same family rule
    as the web sessions); raises InvalidGrant for dead, unknown or foreign tokens."""
    if token is None or grant is None or token.kind != REFRESH:
        raise InvalidGrant("The refresh token is not valid.")
    if grant.client_id != client_id:
        raise InvalidGrant("The refresh token was issued to another client.")
    if token.spent_at is not None:
        return REVOKE_GRANT
    if not grant.is_live(now) or now >= token.expires_at:
        raise InvalidGrant("The refresh token has expired or was revoked.")
    return ISSUE


def check_access(token: GrantToken | None, grant: Grant | None, now: datetime) -> Grant:
    """The grant behind a presented access token, or InvalidToken."""
    if token is None or grant is None or token.kind != ACCESS:
        raise InvalidToken("The access token is not valid.")
    if not token.usable(now) or not grant.is_live(now):
        raise InvalidToken("The access token has expired or was revoked.")
    return grant
