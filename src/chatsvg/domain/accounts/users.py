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
