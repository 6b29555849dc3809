"""The smaller features: the gallery, notifications, support messages and the operator's commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from dependency_injector import containers, providers

from chatsvg.application.admin.access import AdminAccess
from chatsvg.application.admin.metrics import AdminMetrics
from chatsvg.application.admin.service import AdminService
from chatsvg.application.gallery.library import GenerationLibrary
from chatsvg.application.notifications.service import NotificationService
from chatsvg.application.support.service import SupportService
from chatsvg.entrypoints.accounts_settings import AccountsSettings
from chatsvg.entrypoints.settings import Settings

DEFAULT_SUPPORT_INBOX = "support@chatsvg.local"


def support_inbox(accounts: AccountsSettings) -> str:
    return accounts.support_inbox or DEFAULT_SUPPORT_INBOX


class Gallery(containers.DeclarativeContainer):
    infra = providers.DependenciesContainer()

    library = providers.Singleton(
        GenerationLibrary,
        uow=infra.uow,
        storage=infra.storage,
        clock=infra.clock,
        gallery=infra.gallery_cache,
    )


class Notifications(containers.DeclarativeContainer):
    infra = providers.DependenciesContainer()

    service = providers.Singleton(NotificationService, uow=infra.uow, clock=infra.clock)


class Support(containers.DeclarativeContainer):
    accounts_settings = providers.Dependency(instance_of=AccountsSettings)
    infra = providers.DependenciesContainer()
    mail = providers.DependenciesContainer()

    service = providers.Singleton(
        SupportService,
        uow=infra.uow,
        outbox=mail.outbox,
        inbox=providers.Callable(support_inbox, accounts_settings),
    )


def admin_auth_url(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + "/api/admin/auth"


def queue_depth(queue: Any) -> Callable[[], Awaitable[int]]:
    """The real queue's depth, read as the Prometheus figures read it (cluster_figures.py)."""

    async def depth() -> int:
        value = getattr(queue, "depth", 0)  # a method (Dramatiq on Redis) or a property
        return int(await value() if callable(value) else value)

    return depth


class Admin(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    infra = providers.DependenciesContainer()
    accounts = providers.DependenciesContainer()
    mail = providers.DependenciesContainer()

    # The admin page (/api/admin): sign-in by mailed link, and its metrics.
    access = providers.Singleton(
        AdminAccess,
        uow=infra.uow,
        outbox=mail.outbox,
        clock=infra.clock,
        limiter=infra.limiter,
        admins=settings.provided.admin_email_set,
        auth_url=providers.Callable(admin_auth_url, settings),
    )
    metrics = providers.Singleton(
        AdminMetrics,
        uow=infra.uow,
        clock=infra.clock,
        queue_depth=providers.Callable(queue_depth, infra.queue),
        cache_seconds=settings.provided.admin_metrics_cache_seconds,
    )

    service = providers.Singleton(
        AdminService,
        uow=infra.uow,
        auth=accounts.auth,
        hasher=accounts.hasher,
        queue=infra.queue,
        realtime=infra.realtime,
        clock=infra.clock,
    )
