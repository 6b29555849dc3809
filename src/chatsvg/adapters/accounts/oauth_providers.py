"""Google (OpenID Connect) and GitHub (OAuth 2.0) sign-in: the OAuthProvider port over Authlib.

Both use the authorization code flow with PKCE (S256); the code is exchanged with Authlib's async
OAuth 2.0 client (client_secret_post). Google's ID token is verified here, against the provider's
JWKS (signature, issuer, audience, expiry, authorized party and our nonce), even though it came
straight from the token endpoint. GitHub has no ID token: the identity is read from its API, and
the email is the *primary, verified* one of GET /user/emails, or none at all.

Every endpoint is configurable, so tests can point a provider at a fake one on 127.0.0.1.
Failures raise OAuthFailed("provider_error"); the detail is logged, never shown to the user.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Sequence
from typing import Any

import httpx
import jwt
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from chatsvg.application.accounts.ports import OAuthFailed, OAuthIdentity

log = logging.getLogger(__name__)

PROVIDER_ERROR = "provider_error"
SUBJECT_MAX = 255
USER_AGENT = "ChatSVG"


class _AuthorizationCodeClient:
    """What both providers share: the authorization URL and the code exchange."""

    name = ""
    scope = ""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        authorize_url: str,
        token_url: str,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.authorize_url = authorize_url
        self.token_url = token_url
        self._timeout = timeout_seconds

    def _extra_authorize_params(self, nonce: str) -> dict[str, str]:
        return {}

    def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        url: str = prepare_grant_uri(
            self.authorize_url,
            client_id=self.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=self.scope,
            state=state,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
            **self._extra_authorize_params(nonce),
        )
        return url

    def _oauth_client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self._client_secret,
            token_endpoint_auth_method="client_secret_post",
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self._timeout,
            headers={"User-Agent": USER_AGENT},
        )

    async def _exchange(
        self, client: AsyncOAuth2Client, code: str, code_verifier: str
    ) -> dict[str, Any]:
        token = await client.fetch_token(
            self.token_url,
            grant_type="authorization_code",
            code=code,
            code_verifier=code_verifier,
        )
        return dict(token)

    def _failed(self, what: str, exc: BaseException | None = None) -> OAuthFailed:
        log.warning("%s sign-in failed: %s", self.name, what, exc_info=exc)
        return OAuthFailed(PROVIDER_ERROR, f"{self.name}: {what}")

    async def aclose(self) -> None:
        return None


class GoogleProvider(_AuthorizationCodeClient):
    name = "google"
    scope = "openid email profile"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth",
        token_url: str = "https://oauth2.googleapis.com/token",  # noqa: S107 - a URL
        jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs",
        issuers: Sequence[str] = ("https://accounts.google.com", "accounts.google.com"),
        timeout_seconds: float = 10.0,
        jwks_ttl_seconds: float = 3600.0,
    ) -> None:
        super().__init__(
            client_id=client_id,
            client_secret=client_secret,
            authorize_url=authorize_url,
            token_url=token_url,
            timeout_seconds=timeout_seconds,
        )
        self.jwks_url = jwks_url
        self.issuers = list(issuers)
        self._jwks_ttl = jwks_ttl_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_fetched_at = float("-inf")
        self._http: httpx.AsyncClient | None = None

    def _extra_authorize_params(self, nonce: str) -> dict[str, str]:
        return {"nonce": nonce}

    async def identify(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> OAuthIdentity:
        try:
            async with self._oauth_client(redirect_uri) as client:
                token = await self._exchange(client, code, code_verifier)
        except Exception as exc:
            raise self._failed("the code exchange failed", exc) from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise self._failed("the token response has no ID token")
        claims = await self.verify_id_token(id_token, nonce=nonce)
        email = claims.get("email")
        subject = str(claims["sub"])
        if not subject or len(subject) > SUBJECT_MAX:
            raise self._failed("the ID token has an unusable subject")
        return OAuthIdentity(
            provider=self.name,
            subject=subject,
            email=email if isinstance(email, str) else None,
            # Google sends a boolean; some OIDC providers send the string "true".
            email_verified=claims.get("email_verified") in (True, "true"),
            name=str(claims.get("name") or ""),
            avatar=claims.get("picture") if isinstance(claims.get("picture"), str) else None,
        )

    async def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The claims of a valid ID token for us, issued in answer to our `nonce`. Raises OAuthFailed."""
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as exc:
            raise self._failed("the ID token is malformed", exc) from None
        if header.get("alg") != "RS256":
            raise self._failed(f"unexpected ID token algorithm {header.get('alg')!r}")
        key = await self._signing_key(str(header.get("kid") or ""))
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key,
                algorithms=["RS256"],
                audience=self.client_id,
                issuer=self.issuers,
                leeway=60,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise self._failed(f"the ID token is not valid ({exc})", exc) from None
        azp = claims.get("azp")
        if azp is not None and azp != self.client_id:
            raise self._failed("the ID token was issued to another client")
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
            raise self._failed("the ID token's nonce is not ours")
        return claims

    async def _signing_key(self, kid: str) -> jwt.PyJWK:
        stale = time.monotonic() - self._keys_fetched_at > self._jwks_ttl
        # An unknown key id may mean the provider rotated its keys: fetch again, at most every 10 s.
        unknown = kid not in self._keys and time.monotonic() - self._keys_fetched_at > 10
        if stale or unknown:
            await self._fetch_keys()
        key = self._keys.get(kid)
        if key is None:
            raise self._failed(f"no signing key {kid!r} in the provider's JWKS")
        return key

    async def _fetch_keys(self) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=self._timeout, headers={"User-Agent": USER_AGENT}
            )
        try:
            response = await self._http.get(self.jwks_url)
            response.raise_for_status()
            key_set = jwt.PyJWKSet.from_dict(response.json())
        except Exception as exc:
            raise self._failed("could not fetch the signing keys", exc) from None
        self._keys = {k.key_id: k for k in key_set.keys if k.key_id}
        self._keys_fetched_at = time.monotonic()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


class GitHubProvider(_AuthorizationCodeClient):
    name = "github"
    scope = "read:user user:email"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        authorize_url: str = "https://github.com/login/oauth/authorize",
        token_url: str = "https://github.com/login/oauth/access_token",  # noqa: S107 - a URL
        api_url: str = "https://api.github.com",
        timeout_seconds: float = 10.0,
    ) -> None:
        super().__init__(
            client_id=client_id,
            client_secret=client_secret,
            authorize_url=authorize_url,
            token_url=token_url,
            timeout_seconds=timeout_seconds,
        )
        self.api_url = api_url.rstrip("/")

    async def identify(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> OAuthIdentity:
        api_headers = {"Accept": "application/vnd.github+json"}
        try:
            async with self._oauth_client(redirect_uri) as client:
                await self._exchange(client, code, code_verifier)
                user_response = await client.get(f"{self.api_url}/user", headers=api_headers)
                user_response.raise_for_status()
                emails_response = await client.get(
                    f"{self.api_url}/user/emails", headers=api_headers
                )
                emails_response.raise_for_status()
                user = user_response.json()
                emails = emails_response.json()
        except Exception as exc:
            raise self._failed("the code exchange or the user lookup failed", exc) from None
        if not isinstance(user, dict) or user.get("id") is None or not isinstance(emails, list):
            raise self._failed("unexpected answer from the user API")
        subject = str(user["id"])
        if len(subject) > SUBJECT_MAX:
            raise self._failed("unusable user id")
        primary = next(
            (
                e
                for e in emails
                if isinstance(e, dict)
                and e.get("primary") is True
                and e.get("verified") is True
                and isinstance(e.get("email"), str)
            ),
            None,
        )
        avatar = user.get("avatar_url")
        return OAuthIdentity(
            provider=self.name,
            subject=subject,
            email=primary["email"] if primary else None,
            email_verified=primary is not None,
            name=str(user.get("name") or user.get("login") or ""),
            avatar=avatar if isinstance(avatar, str) else None,
        )
