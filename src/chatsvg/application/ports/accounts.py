"""Ports of the accounts feature: password hashing, access tokens, users, sessions, reset tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chatsvg.domain.accounts.auth import PasswordResetToken, RefreshToken, RefreshTokenFamily
from chatsvg.domain.accounts.users import User


class PasswordHasher(Protocol):
    """argon2id in production. Async because hashing is deliberately slow and must not block the loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...

    async def waste_time(self, password: str) -> None:
        """Spend what a verification costs, so an unknown email answers in similar time."""
        ...


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    session_id: str
    expires_at: datetime


class AccessTokens(Protocol):
    def issue(self, user_id: str, session_id: str) -> tuple[str, datetime]: ...

    def verify(self, token: str) -> AccessClaims:
        """Raises TokenExpired for a well-signed token past `exp`, Unauthenticated for anything else."""
        ...


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Raises EmailTaken when the email is already registered."""
        ...

    async def get(self, user_id: str) -> User | None: ...

    async def with_balance(self, user_id: str) -> tuple[User, int] | None:
        """The user and their credit balance (what `LedgerRepository.balance` says), read
        together: one statement on SQL, where the balance is a column of the user's row."""
        ...

    async def by_email(self, email: str) -> User | None: ...

    async def update(self, user: User) -> None: ...

    async def delete(self, user_id: str) -> None:
        """The user and everything they own: sessions and their tokens, reset tokens, linked
        identities, jobs, generations, ledger entries and notifications."""
        ...


class SessionRepository(Protocol):
    """Refresh-token families and their tokens."""

    async def add_family(self, family: RefreshTokenFamily) -> None: ...

    async def get_family(self, family_id: str) -> RefreshTokenFamily | None: ...

    async def update_family(self, family: RefreshTokenFamily) -> None: ...

    async def live_families(self, user_id: str, now: datetime) -> list[RefreshTokenFamily]: ...

    async def revoke_all(
        self, user_id: str, now: datetime, *, keep: str | None = None
    ) -> list[str]:
        """Revoke every live family of the user except `keep`; returns the revoked family ids."""
        ...

    async def add_token(self, token: RefreshToken) -> None: ...

    async def get_token(self, token_hash: str) -> RefreshToken | None: ...

    async def spend_token(self, token_hash: str, now: datetime) -> bool:
        """Mark the token spent only if it is not already: True for exactly one of any racing callers."""
        ...


class ResetTokenRepository(Protocol):
    async def add(self, token: PasswordResetToken) -> None: ...

    async def get(self, token_hash: str) -> PasswordResetToken | None: ...

    async def use(self, token_hash: str, now: datetime) -> bool:
        """Spend a reset token once: True for exactly one caller."""
        ...

    async def retire_all(self, user_id: str, now: datetime) -> None:
        """Mark every unused reset token of the user as used (after a reset succeeded)."""
        ...
