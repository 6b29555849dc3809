"""The unit of work: one transaction over every feature's repositories."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from chatsvg.application.ports.accounts import (
    ResetTokenRepository,
    SessionRepository,
    UserRepository,
)
from chatsvg.application.ports.authorization import GrantRepository, OAuthClientRepository
from chatsvg.application.ports.billing import BillingEventRepository, SubscriptionRepository
from chatsvg.application.ports.credits import CreditLedger
from chatsvg.application.ports.generation import GenerationRepository, JobRepository
from chatsvg.application.ports.keys import ApiKeyRepository, KeyUsageRepository
from chatsvg.application.ports.notifications import NotificationRepository
from chatsvg.application.ports.plans import PlanUsage


class UnitOfWork(Protocol):
    """One transaction: rolled back on leaving the block unless `commit()` was called."""

    users: UserRepository
    sessions: SessionRepository
    reset_tokens: ResetTokenRepository
    jobs: JobRepository
    generations: GenerationRepository
    ledger: CreditLedger
    notifications: NotificationRepository
    # The OAuth 2.1 authorization server for MCP clients (not the Google/GitHub sign-in).
    authz_clients: OAuthClientRepository
    authz_grants: GrantRepository
    plan_usage: PlanUsage
    subscriptions: SubscriptionRepository
    billing_events: BillingEventRepository
    api_keys: ApiKeyRepository
    key_usage: KeyUsageRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
