"""The one wire format of times, shared by HTTP answers and socket events: RFC 3339 in UTC with
milliseconds ("2025-01-31T12:00:00.000Z"), so that a client parses every time the same way and
the same moment reads the same on both channels."""

from __future__ import annotations

from datetime import UTC, datetime


def timestamp(value: datetime) -> str:
    """A moment as clients see it. A time without a zone is taken to be UTC already."""
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def optional_timestamp(value: datetime | None) -> str | None:
    return None if value is None else timestamp(value)
