"""Sign-in with an OAuth 2.0 / OpenID Connect provider (Google, GitHub).

`start` mints the `state`, the OIDC `nonce` and the PKCE verifier that the HTTP edge keeps in a
short-lived signed cookie; `finish` has the provider exchange the code for a verified identity and
then signs in:

- an identity already linked (provider, subject) signs in to its account;
- otherwise the provider must vouch for the email (`email_verified`), or the sign-in is refused;
- a verified email that matches an account links to it. If that account's own address was never
  proven, whoever created it may not own the mailbox (an attacker can register a victim's address
  first and wait): its password is cleared and its sessions end, so only the mailbox owner stays;
- else a new account is created (starting credits and welcome notification included).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from chatsvg.application.accounts.auth import AuthService, ClientInfo, SignedIn
from chatsvg.application.accounts.ports import (
    AccountsUnitOfWorkFactory,
    IdentityAlreadyLinked,
    LinkedIdentity,
    OAuthFailed,
    OAuthIdentity,
    OAuthProvider,
)
from chatsvg.application.ids import new_id, new_secret_token
from chatsvg.application.ports import Clock, RealtimePublisher
from chatsvg.domain.accounts.users import NAME_MAX, User, normalise_email
from chatsvg.domain.errors import EmailTaken, NotFound, ValidationFailed

log = logging.getLogger(__name__)

# Reasons a sign-in is refused; they end up in the web app's URL as `?error=<reason>`.
UNVERIFIED_EMAIL = "unverified_email"
ACCOUNT_ERROR = "account_error"
AVATAR_MAX = 1024


@dataclass(frozen=True)
class AuthorizationStart:
    """Where to send the browser, and what to remember (in a signed cookie) until it comes back."""

    provider: str
    url: str
    state: str
    nonce: str
    code_verifier: str


class OAuthSignIn:
    """The OAuth sign-in use cases over the configured providers."""

    def __init__(
        self,
        *,
        uow: AccountsUnitOfWorkFactory,
        auth: AuthService,
        clock: Clock,
        realtime: RealtimePublisher,
        providers: Sequence[OAuthProvider],
    ) -> None:
        self._uow = uow
        self._auth = auth
        self._clock = clock
        self._realtime = realtime
        self._providers = {p.name: p for p in providers}

    @property
    def provider_names(self) -> list[str]:
        return list(self._providers)

    def _provider(self, name: str) -> OAuthProvider:
        provider = self._providers.get(name)
        if provider is None:
            raise NotFound(f"Sign-in with {name} is not configured.")
        return provider

    def start(self, provider_name: str, *, redirect_uri: str) -> AuthorizationStart:
        """Raises NotFound when the provider is not configured."""
        provider = self._provider(provider_name)
        state, nonce, verifier = new_secret_token(), new_secret_token(), new_secret_token()
        url = provider.authorization_url(
            redirect_uri=redirect_uri, state=state, nonce=nonce, code_verifier=verifier
        )
        return AuthorizationStart(provider.name, url, state, nonce, verifier)

    async def finish(
        self,
        provider_name: str,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        nonce: str,
        client: ClientInfo,
    ) -> SignedIn:
        """Exchange the code and sign in (linking or creating the account). Raises OAuthFailed."""
        provider = self._provider(provider_name)
        identity = await provider.identify(
            code=code, redirect_uri=redirect_uri, code_verifier=code_verifier, nonce=nonce
        )
        user_id = await self.account_for(identity)
        return await self._auth.sign_in_user(user_id, client=client)

    async def account_for(self, identity: OAuthIdentity) -> str:
        """The id of the account this identity signs in to, linking or creating it when allowed."""
        for attempt in range(2):
            try:
                return await self._link_or_create(identity)
            except (IdentityAlreadyLinked, EmailTaken):
                # A concurrent sign-in of the same person linked or created it first: look again.
                if attempt:
                    raise OAuthFailed(ACCOUNT_ERROR, "concurrent sign-ins kept colliding") from None
        raise AssertionError("unreachable")

    async def _link_or_create(self, identity: OAuthIdentity) -> str:
        now = self._clock.now()
        revoked: list[str] = []
        async with self._uow() as uow:
            identities = uow.identities
            linked = await identities.get(identity.provider, identity.subject)
            if linked is not None:
                if await uow.users.get(linked.user_id) is not None:
                    return linked.user_id
                await identities.delete(identity.provider, identity.subject)
            if not identity.email or not identity.email_verified:
                raise OAuthFailed(UNVERIFIED_EMAIL, "the provider did not vouch for an email")
            try:
                email = normalise_email(identity.email)
            except ValidationFailed:
                raise OAuthFailed(UNVERIFIED_EMAIL, "the provider's email is malformed") from None
            user = await uow.users.by_email(email)
            if user is None:
                user = User.open(
                    user_id=new_id(),
                    email=email,
                    name=_display_name(identity.name),
                    password_hash=None,
                    now=now,
                    avatar=_avatar(identity.avatar),
                    email_verified=True,
                )
                await self._auth.create_user(uow, user, now)
            else:
                if user.prove_email_by_provider():
                    revoked = await uow.sessions.revoke_all(user.id, now)
                user.adopt_avatar(_avatar(identity.avatar))
                await uow.users.update(user)
            await identities.add(
                LinkedIdentity(identity.provider, identity.subject, user.id, email, now)
            )
            await uow.commit()
        if revoked:
            await self._realtime.session_revoked(revoked)
        return user.id

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()


def _display_name(raw: str) -> str:
    return " ".join(raw.split())[:NAME_MAX]


def _avatar(raw: str | None) -> str | None:
    if raw and len(raw) <= AVATAR_MAX and raw.startswith(("https://", "http://")):
        return raw
    return None
