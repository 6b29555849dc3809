"""A small fake OAuth 2.0 / OpenID Connect provider on 127.0.0.1 (aiohttp), for Google- and GitHub-style
sign-in tests.

- GET  /authorize   auto-approves the configured user; redirects to redirect_uri with code + state
- POST /token       authorization_code grant: client credentials, redirect_uri, PKCE S256, codes
                    usable once; answers an access token, plus an RS256 ID token when `openid` was asked
- GET  /jwks        the public signing key
- GET  /user, /user/emails   GitHub-style user API (bearer access token)
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass
class FakeUser:
    subject: str = "1001"
    email: str = "grace@example.com"
    email_verified: bool = True
    name: str = "Grace Hopper"
    avatar: str | None = "https://avatars.example/grace.png"


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str
    nonce: str | None
    scope: str
    user: FakeUser


@dataclass
class FakeOAuthProvider:
    client_id: str = "chatsvg-test-client"
    client_secret: str = "chatsvg-test-secret"
    user: FakeUser = field(default_factory=FakeUser)
    # Change the ID token's claims before signing (e.g. a wrong nonce or audience).
    tamper: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    sign_with_unknown_key: bool = False
    base_url: str = ""
    token_requests: list[dict[str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "fake-key-1"
        self._grants: dict[str, Grant] = {}
        self._used: set[str] = set()
        self._access: dict[str, FakeUser] = {}
        self._runner: web.AppRunner | None = None

    @property
    def issuer(self) -> str:
        return self.base_url

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/jwks", self._jwks)
        app.router.add_get("/user", self._user)
        app.router.add_get("/user/emails", self._emails)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def google_env(self) -> dict[str, str]:
        return {
            "CHATSVG_GOOGLE_CLIENT_ID": self.client_id,
            "CHATSVG_GOOGLE_CLIENT_SECRET": self.client_secret,
            "CHATSVG_GOOGLE_AUTHORIZE_URL": f"{self.base_url}/authorize",
            "CHATSVG_GOOGLE_TOKEN_URL": f"{self.base_url}/token",
            "CHATSVG_GOOGLE_JWKS_URL": f"{self.base_url}/jwks",
            "CHATSVG_GOOGLE_ISSUERS": self.issuer,
        }

    def github_env(self) -> dict[str, str]:
        return {
            "CHATSVG_GITHUB_CLIENT_ID": self.client_id,
            "CHATSVG_GITHUB_CLIENT_SECRET": self.client_secret,
            "CHATSVG_GITHUB_AUTHORIZE_URL": f"{self.base_url}/authorize",
            "CHATSVG_GITHUB_TOKEN_URL": f"{self.base_url}/token",
            "CHATSVG_GITHUB_API_URL": self.base_url,
        }

    # -- endpoints --------------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return web.Response(status=400, text="bad client or response type")
        if not q.get("code_challenge") or q.get("code_challenge_method") != "S256":
            return web.Response(status=400, text="PKCE S256 required")
        code = secrets.token_urlsafe(24)
        self._grants[code] = Grant(
            client_id=q["client_id"],
            redirect_uri=q["redirect_uri"],
            code_challenge=q["code_challenge"],
            code_challenge_method=q["code_challenge_method"],
            nonce=q.get("nonce"),
            scope=q.get("scope", ""),
            user=FakeUser(**vars(self.user)),
        )
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        raise web.HTTPFound(f"{q['redirect_uri']}?{urlencode(params)}")

    def _refuse(self, error: str, why: str) -> web.Response:
        self.refused.append(why)
        return web.json_response({"error": error, "error_description": why}, status=400)

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({k: str(v) for k, v in form.items()})
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return self._refuse("invalid_client", "bad client credentials")
        if form.get("grant_type") != "authorization_code":
            return self._refuse("unsupported_grant_type", "grant")
        code = str(form.get("code", ""))
        if code in self._used:
            return self._refuse("invalid_grant", "code already used")
        grant = self._grants.pop(code, None)
        if grant is None:
            return self._refuse("invalid_grant", "unknown code")
        self._used.add(code)
        if form.get("redirect_uri") != grant.redirect_uri:
            return self._refuse("invalid_grant", "redirect_uri mismatch")
        verifier = str(form.get("code_verifier", ""))
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .decode()
            .rstrip("=")
        )
        if not verifier or challenge != grant.code_challenge:
            return self._refuse("invalid_grant", "PKCE verification failed")
        access_token = secrets.token_urlsafe(24)
        self._access[access_token] = grant.user
        body: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": grant.scope,
        }
        if "openid" in grant.scope.split():
            body["id_token"] = self._id_token(grant)
        return web.json_response(body)

    def _id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "azp": self.client_id,
            "sub": grant.user.subject,
            "email": grant.user.email,
            "email_verified": grant.user.email_verified,
            "name": grant.user.name,
            "picture": grant.user.avatar,
            "iat": now,
            "exp": now + 300,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        if self.tamper is not None:
            claims = self.tamper(claims)
        key = self._other_key if self.sign_with_unknown_key else self._key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})

    async def _jwks(self, request: web.Request) -> web.Response:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="RS256")
        return web.json_response({"keys": [jwk]})

    def _bearer_user(self, request: web.Request) -> FakeUser | None:
        auth = request.headers.get("Authorization", "")
        return self._access.get(auth[7:]) if auth.startswith("Bearer ") else None

    async def _user(self, request: web.Request) -> web.Response:
        user = self._bearer_user(request)
        if user is None:
            return web.json_response({"message": "Bad credentials"}, status=401)
        return web.json_response(
            {
                "id": int(user.subject) if user.subject.isdigit() else user.subject,
                "login": user.name.split()[0].lower() if user.name else "someone",
                "name": user.name or None,
                "avatar_url": user.avatar,
            }
        )

    async def _emails(self, request: web.Request) -> web.Response:
        user = self._bearer_user(request)
        if user is None:
            return web.json_response({"message": "Bad credentials"}, status=401)
        return web.json_response(
            [
                {"email": "old-address@example.org", "primary": False, "verified": True},
                {"email": user.email, "primary": True, "verified": user.email_verified},
            ]
        )
