"""Accounts and the rules for what people type into them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from chatsvg.domain.errors import ValidationFailed

PASSWORD_MIN = 8
PASSWORD_MAX = 128
NAME_MAX = 100
EMAIL_MAX = 254
FREE_PLAN = "FREE"

# Deliberately loose: one @, something on both sides, a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class User:
    id: str
    email: str
    name: str
    password_hash: str | None
    avatar: str | None
    plan: str
    created_at: datetime
    email_verified: bool = False
    notifications_seen_at: datetime | None = None

    @classmethod
    def open(
        cls,
        *,
        user_id: str,
        email: str,
        name: str,
        password_hash: str | None,
        now: datetime,
        avatar: str | None = None,
        email_verified: bool = False,
    ) -> User:
        """A new account, on the FREE plan (the email and name already normalised)."""
        return cls(
            id=user_id,
            email=email,
            name=name,
            password_hash=password_hash,
            avatar=avatar,
            plan=FREE_PLAN,
            created_at=now,
            email_verified=email_verified,
        )

    def rename(self, raw: str) -> None:
        self.name = normalise_name(raw)

    def change_password(self, password_hash: str) -> None:
        """A new password (already hashed): a change by the user, or a rehash at sign-in."""
        self.password_hash = password_hash

    def reset_password(self, password_hash: str) -> None:
        """A password set through a reset link: the link reached this inbox, so the address is proven."""
        self.password_hash = password_hash
        self.email_verified = True

    def prove_email_by_provider(self) -> bool:
        """An OAuth provider vouches for this address. If it was not proven before, whoever set the
        password never showed they own the address: the password is dropped. Returns whether it
        was (the account's sessions must end then)."""
        if self.email_verified:
            return False
        self.password_hash = None
        self.email_verified = True
        return True

    def adopt_avatar(self, avatar: str | None) -> None:
        """Take a provider's picture, unless the account has one already."""
        if self.avatar is None:
            self.avatar = avatar

    def move_to_plan(self, plan: str) -> bool:
        """The plan a paid subscription (or its end) puts the account on; whether it changed."""
        changed = self.plan != plan
        self.plan = plan
        return changed

    def mark_notifications_seen(self, now: datetime) -> None:
        """Notifications created until `now` count as read from now on."""
        self.notifications_seen_at = now


def normalise_email(raw: str) -> str:
    email = raw.strip().lower()
    if not email or len(email) > EMAIL_MAX or not _EMAIL.match(email):
        raise ValidationFailed(
            "Enter a valid email address.", details=[{"field": "email", "message": "invalid email"}]
        )
    return email


def check_password(password: str, field: str = "password") -> str:
    if not (PASSWORD_MIN <= len(password) <= PASSWORD_MAX):
        raise ValidationFailed(
            f"The password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long.",
            details=[{"field": field, "message": f"length must be {PASSWORD_MIN}-{PASSWORD_MAX}"}],
        )
    return password


def normalise_name(raw: str, *, required: bool = True) -> str:
    name = " ".join(raw.split())
    if (required and not name) or len(name) > NAME_MAX:
        raise ValidationFailed(
            f"The name must be 1 to {NAME_MAX} characters long.",
            details=[{"field": "name", "message": f"length must be 1-{NAME_MAX}"}],
        )
    return name
