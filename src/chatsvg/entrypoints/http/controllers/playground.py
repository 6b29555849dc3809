"""The browser playground served at `/` in local mode (owned by the playground work; see issue 10)."""

from __future__ import annotations

from typing import Any


def playground_handlers() -> list[Any]:
    """Route handlers serving the playground page and its static assets."""
    return []
