"""Operator commands: users, credits, stuck jobs, sessions, orphaned artifacts."""

from __future__ import annotations

from typing import Any


def add_admin_commands(sub: Any) -> None:
    # Filled in with the operations issue; kept as a module so the CLI's shape is stable.
    return None
