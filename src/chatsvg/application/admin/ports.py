"""The unit of work of the admin page's use cases: the accounts one (users, the mail outbox) with
the admin sign-in records and the figures reader."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from chatsvg.application.accounts.ports import AccountsUnitOfWork
from chatsvg.application.ports.admin import (
    AdminFiguresReader,
    AdminLinkRepository,
    AdminSessionRepository,
)


class AdminUnitOfWork(AccountsUnitOfWork, Protocol):
    admin_links: AdminLinkRepository
    admin_sessions: AdminSessionRepository
    admin_figures: AdminFiguresReader


AdminUnitOfWorkFactory = Callable[[], AdminUnitOfWork]
