"""Mail: how it leaves (SMTP, .eml files, or not at all) and the durable outbox other features enqueue
mail with. The outbox wakes delivery with the `send_mail` task on the process's own task queue;
every API process runs that task and the outbox's sweep (entrypoints/tasks.py).

SMTP when `CHATSVG_SMTP_HOST` is set, else `.eml` files under `<data_dir>/outbox`; no delivery
with `CHATSVG_MAIL_BACKEND=none`. Whether the mail settings are complete enough for
production is checked before the process starts (`AccountsSettings.check_startup`, run by the CLI).
"""

from __future__ import annotations

import logging

from dependency_injector import containers, providers

from chatsvg.adapters.mail.mailers import (
    DisabledMailer,
    FileOutboxMailer,
    MailTemplateSet,
    SmtpMailer,
)
from chatsvg.application.mail.outbox import DeliveryPolicy, MailOutbox
from chatsvg.application.ports import Clock, Mailer, TaskQueue
from chatsvg.entrypoints.accounts_settings import AccountsSettings
from chatsvg.entrypoints.settings import Settings, SettingsError

log = logging.getLogger("chatsvg.accounts")


def build_mailer(accounts: AccountsSettings, settings: Settings) -> Mailer:
    backend = accounts.effective_mail_backend
    if backend == "none":
        return DisabledMailer()
    if backend == "smtp":
        if not accounts.smtp_host:
            raise SettingsError("CHATSVG_MAIL_BACKEND=smtp needs CHATSVG_SMTP_HOST.")
        return SmtpMailer(
            host=accounts.smtp_host,
            port=accounts.smtp_port,
            tls=accounts.smtp_tls,
            username=accounts.smtp_username,
            password=accounts.smtp_password,
            sender=accounts.smtp_from,
            timeout_seconds=accounts.smtp_timeout_seconds,
            validate_certs=accounts.smtp_validate_certs,
        )
    directory = accounts.outbox_path(settings)
    if not settings.local and accounts.mail_backend is None:
        # Only reachable by building the app without the CLI's start-up check, which refuses this.
        log.error(
            "CHATSVG_SMTP_HOST is not set: mail is written to %s instead of being sent", directory
        )
    return FileOutboxMailer(directory, sender=accounts.smtp_from)


def mail_is_on(accounts: AccountsSettings) -> bool:
    return accounts.effective_mail_backend != "none"


def make_outbox(
    accounts: AccountsSettings, uow: object, mailer: Mailer, clock: Clock, tasks: TaskQueue
) -> MailOutbox:
    outbox = MailOutbox(
        uow=uow,  # type: ignore[arg-type]
        mailer=mailer,
        clock=clock,
        # `send_mail` goes to this process's own queue (entrypoints/tasks.py runs it).
        tasks=tasks if mail_is_on(accounts) else None,
        policy=DeliveryPolicy(
            max_attempts=accounts.mail_max_attempts,
            backoff_base_seconds=accounts.mail_retry_base_seconds,
            backoff_cap_seconds=accounts.mail_retry_cap_seconds,
        ),
    )
    if not mail_is_on(accounts):
        outbox.on_enqueued(
            lambda: log.warning("mail is off (CHATSVG_MAIL_BACKEND=none): a message stays unsent")
        )
    return outbox


class Mail(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    accounts_settings = providers.Dependency(instance_of=AccountsSettings)
    infra = providers.DependenciesContainer()

    mailer = providers.Singleton(build_mailer, accounts_settings, settings)
    templates = providers.Singleton(MailTemplateSet)
    outbox = providers.Singleton(
        make_outbox, accounts_settings, infra.uow, mailer, infra.clock, infra.local_tasks
    )
    # Whether this deployment sends mail at all (CHATSVG_MAIL_BACKEND=none: messages stay unsent).
    delivers = providers.Callable(mail_is_on, accounts_settings)
