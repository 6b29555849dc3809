"""Identifiers and secrets made by the application (the domain takes them as arguments)."""

from __future__ import annotations

import secrets
import uuid


def new_id() -> str:
    return str(uuid.uuid4())


def new_secret_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)
