"""Opaque, URL-safe cursors for newest-first lists."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from chatsvg.application.ports import Position
from chatsvg.domain.errors import ValidationFailed

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(created_at: datetime, item_id: str) -> str:
    raw = f"{created_at.isoformat()}|{item_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None) -> Position | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, item_id = raw.split("|", 1)
        return datetime.fromisoformat(stamp), item_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "The cursor is not valid.", details=[{"field": "cursor", "message": "invalid"}]
        ) from None


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be between 1 and {MAX_LIMIT}.",
            details=[{"field": "limit", "message": "out of range"}],
        )
    return limit


def paginate(rows: list[T], limit: int, position: Callable[[T], Position]) -> Page[T]:
    """`rows` holds up to limit+1 items; the extra one only tells that another page exists."""
    if len(rows) > limit:
        items = rows[:limit]
        created_at, item_id = position(items[-1])
        return Page(items, encode_cursor(created_at, item_id))
    return Page(rows, None)
