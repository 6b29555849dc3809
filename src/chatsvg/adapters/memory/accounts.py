"""In-memory accounts repositories: users, sessions, reset tokens, linked identities, mail outbox."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime

from chatsvg.adapters.memory.credits import ledger_balance
from chatsvg.adapters.memory.repository import MemoryRepository
from chatsvg.adapters.memory.tables import IntegrityViolation
from chatsvg.application.accounts.ports import (
    ERASED_BODY,
    IdentityAlreadyLinked,
    LinkedIdentity,
    MailStatus,
    OutboxMail,
)
from chatsvg.domain.accounts.auth import PasswordResetToken, RefreshToken, RefreshTokenFamily
from chatsvg.domain.accounts.users import User
from chatsvg.domain.errors import EmailTaken

# What `users.update` writes (as the SQL adapter: never the id, email or creation time).
_USER_UPDATES = (
    "name",
    "password_hash",
    "avatar",
    "plan",
    "email_verified",
    "notifications_seen_at",
)


class MemoryUsers(MemoryRepository):
    async def add(self, user: User) -> None:
        try:
            self._db.insert("users", user)
        except IntegrityViolation:
            raise EmailTaken() from None

    async def get(self, user_id: str) -> User | None:
        user: User | None = self._db.get("users", user_id)
        return user

    async def with_balance(self, user_id: str) -> tuple[User, int] | None:
        user: User | None = self._db.get("users", user_id)
        if user is None:
            return None
        return user, ledger_balance(self._db, user_id)

    async def by_email(self, email: str) -> User | None:
        users: list[User] = [u for u in self._db.scan("users") if u.email == email]
        return copy.copy(users[0]) if users else None

    async def update(self, user: User) -> None:
        self._db.update("users", user, _USER_UPDATES)

    async def delete(self, user_id: str) -> None:
        self._db.delete("users", user_id)  # and, by cascade, everything that references the user


class MemorySessions(MemoryRepository):
    async def add_family(self, family: RefreshTokenFamily) -> None:
        self._db.insert("refresh_families", family)

    async def get_family(self, family_id: str) -> RefreshTokenFamily | None:
        family: RefreshTokenFamily | None = self._db.get("refresh_families", family_id)
        return family

    async def update_family(self, family: RefreshTokenFamily) -> None:
        self._db.update("refresh_families", family)

    async def live_families(self, user_id: str, now: datetime) -> list[RefreshTokenFamily]:
        return [
            copy.copy(f)
            for f in self._db.scan("refresh_families")
            if f.user_id == user_id and f.is_live(now)
        ]

    async def revoke_all(
        self, user_id: str, now: datetime, *, keep: str | None = None
    ) -> list[str]:
        revoked = []
        for family in self._db.scan("refresh_families"):
            if family.user_id == user_id and family.id != keep and family.revoked_at is None:
                self._db.update("refresh_families", replace(family, revoked_at=now))
                revoked.append(family.id)
        return revoked

    async def add_token(self, token: RefreshToken) -> None:
        self._db.insert("refresh_tokens", token)

    async def get_token(self, token_hash: str) -> RefreshToken | None:
        token: RefreshToken | None = self._db.get("refresh_tokens", token_hash)
        return token

    async def spend_token(self, token_hash: str, now: datetime) -> bool:
        token = await self.get_token(token_hash)
        if token is None or token.spent_at is not None:
            return False
        return self._db.update("refresh_tokens", replace(token, spent_at=now))


class MemoryResetTokens(MemoryRepository):
    async def add(self, token: PasswordResetToken) -> None:
        self._db.insert("password_reset_tokens", token)

    async def get(self, token_hash: str) -> PasswordResetToken | None:
        token: PasswordResetToken | None = self._db.get("password_reset_tokens", token_hash)
        return token

    async def use(self, token_hash: str, now: datetime) -> bool:
        token = await self.get(token_hash)
        if token is None or not token.usable(now):
            return False
        return self._db.update("password_reset_tokens", replace(token, used_at=now))

    async def retire_all(self, user_id: str, now: datetime) -> None:
        for token in self._db.scan("password_reset_tokens"):
            if token.user_id == user_id and token.used_at is None:
                self._db.update("password_reset_tokens", replace(token, used_at=now))


class MemoryIdentities(MemoryRepository):
    async def get(self, provider: str, subject: str) -> LinkedIdentity | None:
        identity: LinkedIdentity | None = self._db.get("oauth_identities", (provider, subject))
        return identity

    async def add(self, identity: LinkedIdentity) -> None:
        try:
            self._db.insert("oauth_identities", identity)
        except IntegrityViolation:
            raise IdentityAlreadyLinked(f"{identity.provider}:{identity.subject}") from None

    async def delete(self, provider: str, subject: str) -> None:
        self._db.delete("oauth_identities", (provider, subject))

    async def for_user(self, user_id: str) -> list[LinkedIdentity]:
        return [i for i in self._db.scan("oauth_identities") if i.user_id == user_id]


class MemoryMailOutbox(MemoryRepository):
    async def add(self, mail: OutboxMail) -> None:
        self._db.insert("mail_outbox", mail)

    async def get(self, mail_id: str) -> OutboxMail | None:
        mail: OutboxMail | None = self._db.get("mail_outbox", mail_id)
        return mail

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxMail]:
        # One unit of work at a time: no other delivery loop can take these meanwhile.
        due = sorted(
            (
                m
                for m in self._db.scan("mail_outbox")
                if m.status == MailStatus.PENDING and m.next_attempt_at <= now
            ),
            key=lambda m: (m.next_attempt_at, m.id),
        )[:limit]
        claimed = []
        for mail in due:
            taken = replace(mail, attempts=mail.attempts + 1, next_attempt_at=lease_until)
            self._db.update("mail_outbox", taken)
            claimed.append(taken)
        return claimed

    async def record(
        self,
        mail_id: str,
        *,
        status: MailStatus,
        next_attempt_at: datetime | None,
        last_error: str | None,
        sent_at: datetime | None,
        erase_body: bool,
    ) -> None:
        mail = await self.get(mail_id)
        if mail is None:
            return
        mail = replace(mail, status=status, last_error=last_error)
        if next_attempt_at is not None:
            mail.next_attempt_at = next_attempt_at
        if sent_at is not None:
            mail.sent_at = sent_at
        if erase_body:
            mail.message = replace(mail.message, text=ERASED_BODY, html=None)
        self._db.update("mail_outbox", mail)

    async def recent(self, limit: int) -> list[OutboxMail]:
        rows = sorted(
            self._db.scan("mail_outbox"), key=lambda m: (m.created_at, m.id), reverse=True
        )
        return [copy.copy(m) for m in rows[:limit]]
