"""The ports of account recovery, the mail outbox and OAuth sign-in (issue 11).

Their repositories belong to the same unit of work as every other aggregate:
`AccountsUnitOfWork` is the shared UnitOfWork with the linked identities and the mail outbox, so
these use cases write in the same transaction as the users, sessions and reset tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from chatsvg.application.ports import MailMessage, UnitOfWork


@dataclass(frozen=True)
class LinkedIdentity:
    """An account at an OAuth provider, linked to one of our users."""

    provider: str
    subject: str
    user_id: str
    email: str | None
    created_at: datetime


class IdentityAlreadyLinked(Exception):
    """Raised by IdentityRepository.add when (provider, subject) is linked already (a race)."""


class IdentityRepository(Protocol):
    async def get(self, provider: str, subject: str) -> LinkedIdentity | None: ...

    async def add(self, identity: LinkedIdentity) -> None:
        """Raises IdentityAlreadyLinked when (provider, subject) is taken."""
        ...

    async def delete(self, provider: str, subject: str) -> None: ...

    async def for_user(self, user_id: str) -> list[LinkedIdentity]: ...


class MailStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"  # gave up after the last attempt
    EXPIRED = "EXPIRED"  # not delivered before it stopped being useful (e.g. a reset link)


@dataclass
class OutboxMail:
    """A message waiting in (or done with) the durable outbox."""

    id: str
    purpose: str
    message: MailMessage
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    status: MailStatus = MailStatus.PENDING
    sent_at: datetime | None = None
    last_error: str | None = None
    expires_at: datetime | None = None
    # Sensitive bodies (a reset link is a password) are erased once the message is done with.
    sensitive: bool = False


# What a sensitive mail's text becomes once it is done with (`record(..., erase_body=True)`).
ERASED_BODY = "(erased after delivery)"


class MailOutboxRepository(Protocol):
    async def add(self, mail: OutboxMail) -> None: ...

    async def get(self, mail_id: str) -> OutboxMail | None: ...

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxMail]:
        """Take pending mails due by `now`: each is counted one attempt and hidden until `lease_until`,
        so that another delivery loop (another process) does not send it too. Returns them as claimed."""
        ...

    async def record(
        self,
        mail_id: str,
        *,
        status: MailStatus,
        next_attempt_at: datetime | None,
        last_error: str | None,
        sent_at: datetime | None,
        erase_body: bool,
    ) -> None: ...

    async def recent(self, limit: int) -> list[OutboxMail]:
        """Newest first."""
        ...


class AccountsUnitOfWork(UnitOfWork, Protocol):
    """The unit of work of these use cases: the shared one, with their repositories."""

    identities: IdentityRepository
    mail_outbox: MailOutboxRepository


AccountsUnitOfWorkFactory = Callable[[], AccountsUnitOfWork]


class MailTemplates(Protocol):
    """Renders the product's messages: plain text plus HTML, every value escaped in the HTML."""

    def password_reset(
        self, *, to: str, name: str, link: str, expires_in_minutes: int
    ) -> MailMessage: ...


@dataclass(frozen=True)
class OAuthIdentity:
    """Who the provider says signed in. `email_verified` is the provider's word, not ours."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str
    avatar: str | None


class OAuthFailed(Exception):
    """The provider exchange failed; `reason` is a short code safe to show in a URL."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


class OAuthProvider(Protocol):
    """One OAuth 2.0 / OpenID Connect provider (authorization code flow with PKCE)."""

    name: str

    def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str: ...

    async def identify(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> OAuthIdentity:
        """Exchange the code and return the verified identity. Raises OAuthFailed."""
        ...

    async def aclose(self) -> None: ...
