"""The composition root: what is built from what, for the API, the worker, the CLI and the tests.

One container with a sub-container per feature. Tests override providers with their fakes
(tests/conftest.py); the worker overrides the queue with the one its broker consumes. Nothing
outside `entrypoints` knows about it.
"""

from __future__ import annotations

from dependency_injector import containers, providers

from chatsvg.entrypoints.accounts_settings import AccountsSettings, Role, load_accounts_settings
from chatsvg.entrypoints.containers.accounts import Accounts
from chatsvg.entrypoints.containers.authorization import Authorization
from chatsvg.entrypoints.containers.billing import Billing
from chatsvg.entrypoints.containers.features import Admin, Gallery, Notifications, Support
from chatsvg.entrypoints.containers.generation import Generation, build_catalogue
from chatsvg.entrypoints.containers.infrastructure import Infrastructure, rate_policies
from chatsvg.entrypoints.containers.keys import Keys
from chatsvg.entrypoints.containers.mail import Mail
from chatsvg.entrypoints.containers.web import Web
from chatsvg.entrypoints.observability import ClusterFigures
from chatsvg.entrypoints.settings import Settings

__all__ = ["Container", "build_catalogue", "create_container", "rate_policies"]


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    accounts_settings = providers.Dependency(instance_of=AccountsSettings)
    # "api": this process serves sockets; "worker" (workers, CLI commands): it only publishes.
    process = providers.Dependency(instance_of=str, default="api")

    infrastructure: providers.Container[Infrastructure] = providers.Container(
        Infrastructure, settings=settings, process=process
    )
    mail: providers.Container[Mail] = providers.Container(
        Mail, settings=settings, accounts_settings=accounts_settings, infra=infrastructure
    )
    accounts: providers.Container[Accounts] = providers.Container(
        Accounts,
        settings=settings,
        accounts_settings=accounts_settings,
        infra=infrastructure,
        mail=mail,
    )
    generation: providers.Container[Generation] = providers.Container(
        Generation, settings=settings, infra=infrastructure
    )
    gallery: providers.Container[Gallery] = providers.Container(Gallery, infra=infrastructure)
    billing: providers.Container[Billing] = providers.Container(
        Billing, settings=settings, infra=infrastructure
    )
    notifications: providers.Container[Notifications] = providers.Container(
        Notifications, infra=infrastructure
    )
    support: providers.Container[Support] = providers.Container(
        Support, accounts_settings=accounts_settings, infra=infrastructure, mail=mail
    )
    admin: providers.Container[Admin] = providers.Container(
        Admin, settings=settings, infra=infrastructure, accounts=accounts, mail=mail
    )
    keys: providers.Container[Keys] = providers.Container(
        Keys, settings=settings, infra=infrastructure, generation=generation, gallery=gallery
    )
    # The OAuth 2.1 authorization server for MCP clients, and the MCP server at /mcp.
    authorization: providers.Container[Authorization] = providers.Container(
        Authorization,
        settings=settings,
        infra=infrastructure,
        generation=generation,
        gallery=gallery,
        keys=keys,
    )
    web: providers.Container[Web] = providers.Container(
        Web,
        settings=settings,
        accounts_settings=accounts_settings,
        infra=infrastructure,
        accounts=accounts,
        generation=generation,
    )
    # The database-wide figures of GET /metrics, computed by one process per interval.
    figures = providers.Singleton(
        ClusterFigures,
        redis_url=settings.provided.redis_url,
        interval=settings.provided.metrics_interval_seconds,
    )


def create_container(
    settings: Settings,
    accounts: AccountsSettings | None = None,
    *,
    process: Role = "api",
    worker_process: bool = False,
) -> Container:
    """The container of one process. `accounts`: the accounts settings (default: read from the
    environment). `process="worker"` (or `worker_process=True`): workers and CLI commands, which
    publish realtime updates through Redis to the API processes' sockets and serve none."""
    return Container(
        settings=settings,
        accounts_settings=accounts if accounts is not None else load_accounts_settings(),
        process="worker" if worker_process else process,
    )
