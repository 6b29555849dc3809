"""Admin sign-in: a single-use link, valid a few minutes, opens an admin session (separate from
user sessions). Tokens are random; only their hashes are stored (`hash_token`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chatsvg.domain.errors import DomainError, Unauthenticated

LINK_LIFETIME = timedelta(minutes=5)
SESSION_LIFETIME = timedelta(hours=24)
REQUEST_ACCESS_MESSAGE = (
    "If this address may use the admin page, a sign-in link is on its way. "
    "It works once, for 5 minutes."
)


class AdminLinkInvalid(DomainError):
    code = "ADMIN_LINK_INVALID"
    default_message = "This sign-in link is not valid: it was used already, or it has expired."


class AdminSignInRequired(Unauthenticated):
    default_message = "Sign in to the admin page first."


def is_admin(email: str, admins: frozenset[str]) -> bool:
    return email.strip().lower() in admins


@dataclass
class AdminLink:
    token_hash: str
    email: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    @classmethod
    def issue(cls, token_hash: str, email: str, now: datetime) -> AdminLink:
        return cls(token_hash, email, now, now + LINK_LIFETIME)

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


@dataclass
class AdminSession:
    token_hash: str
    email: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    @classmethod
    def open(cls, token_hash: str, email: str, now: datetime) -> AdminSession:
        return cls(token_hash, email, now, now + SESSION_LIFETIME)

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at
