"""The smaller features: the gallery, notifications, support messages and the operator's commands."""

from __future__ import annotations

from dependency_injector import containers, providers

from chatsvg.application.admin.service import AdminService
from chatsvg.application.gallery.library import GenerationLibrary
from chatsvg.application.notifications.service import NotificationService
from chatsvg.application.support.service import SupportService
from chatsvg.entrypoints.accounts_settings import AccountsSettings

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


class Admin(containers.DeclarativeContainer):
    infra = providers.DependenciesContainer()
    accounts = providers.DependenciesContainer()

    service = providers.Singleton(
        AdminService,
        uow=infra.uow,
        auth=accounts.auth,
        hasher=accounts.hasher,
        queue=infra.queue,
        realtime=infra.realtime,
        clock=infra.clock,
    )
