"""Refresh-token families: rotation on every use, and the revocation of a whole family on reuse.

A family is one signed-in session (one device or browser). Each refresh spends the presented token
and issues the next one in the same family; the family keeps its original expiry, so rotation never
extends a session. A token presented after it was spent means it leaked (or two clients raced):
the whole family, including its newest token, is revoked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatsvg.domain.errors import Unauthenticated

SESSION_LIFETIME = timedelta(days=7)
REMEMBER_ME_LIFETIME = timedelta(days=30)


def hash_token(token: str) -> str:
    """Tokens are stored only as this hash; a database leak yields nothing presentable."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class RefreshTokenFamily:
    id: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime
    remember_me: bool = False
    revoked_at: datetime | None = None
    user_agent: str | None = None
    ip_address: str | None = None

    @classmethod
    def start(
        cls,
        *,
        family_id: str,
        user_id: str,
        now: datetime,
        remember_me: bool,
        user_agent: str | None,
        ip_address: str | None,
    ) -> RefreshTokenFamily:
        lifetime = REMEMBER_ME_LIFETIME if remember_me else SESSION_LIFETIME
        return cls(
            id=family_id,
            user_id=user_id,
            created_at=now,
            expires_at=now + lifetime,
            last_used_at=now,
            remember_me=remember_me,
            user_agent=(user_agent or "")[:512] or None,
            ip_address=ip_address,
        )

    def record_use(
        self, now: datetime, *, user_agent: str | None = None, ip_address: str | None = None
    ) -> None:
        """The session was refreshed from this client: remember when and from where (what the
        client did not tell stays as it was)."""
        self.last_used_at = now
        if user_agent:
            self.user_agent = user_agent[:512]
        if ip_address:
            self.ip_address = ip_address

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = now


@dataclass
class RefreshToken:
    token_hash: str
    family_id: str
    created_at: datetime
    spent_at: datetime | None = None


class RefreshDecision:
    """What presenting a refresh token means, decided from the stored records alone."""

    ROTATE = "rotate"
    REVOKE_FAMILY = "revoke_family"


def judge_refresh(
    token: RefreshToken | None, family: RefreshTokenFamily | None, now: datetime
) -> str:
    """Decide what a presented refresh token earns. Raises Unauthenticated for dead or unknown tokens."""
    if token is None or family is None:
        raise Unauthenticated("Your session has ended; sign in again.")
    if token.spent_at is not None:
        # Reuse is reported as reuse even when the family is already dead: the client must know.
        return RefreshDecision.REVOKE_FAMILY
    if not family.is_live(now):
        raise Unauthenticated("Your session has ended; sign in again.")
    return RefreshDecision.ROTATE


@dataclass
class PasswordResetToken:
    token_hash: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at
