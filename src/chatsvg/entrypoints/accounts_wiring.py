"""Wiring of the account-recovery, mail and OAuth features into the app (see issue 11)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatsvg.entrypoints.containers import Container
from chatsvg.entrypoints.settings import Settings


@dataclass
class AccountsInstall:
    route_handlers: list[Any] = field(default_factory=list)
    oauth_providers: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    # Coroutine functions run at app start-up and shut-down (e.g. a mail delivery loop).
    on_startup: list[Any] = field(default_factory=list)
    on_shutdown: list[Any] = field(default_factory=list)


def install_accounts(container: Container, settings: Settings) -> AccountsInstall:
    return AccountsInstall()
