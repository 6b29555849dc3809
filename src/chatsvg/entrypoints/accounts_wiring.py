"""Wiring of the account-recovery, mail and OAuth features into the app (see issue 11).

`install_accounts` builds, from the container and the accounts settings (env `CHATSVG_*`, see
`accounts_settings.py`): the durable mail outbox and its delivery loop (SMTP when
`CHATSVG_SMTP_HOST` is set, else `.eml` files under `<data_dir>/outbox`; no loop with
`CHATSVG_MAIL_BACKEND=none`), password recovery, and OAuth sign-in with the providers whose client
id and secret are set. Whether the mail settings are complete enough for production is checked
before the process starts (`AccountsSettings.check_startup`, run by the CLI).

`extras["mail_outbox"]` is the `MailOutbox` other features enqueue mail with, e.g. support:

    outbox: MailOutbox = services(request).extras["mail_outbox"]
    await outbox.enqueue(MailMessage(to=inbox, subject=..., text=..., reply_to=user_email),
                         purpose="support")

and `extras["support_inbox"]` is `CHATSVG_SUPPORT_INBOX` (or None).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from chatsvg.adapters.accounts.oauth_providers import GitHubProvider, GoogleProvider
from chatsvg.adapters.mail.mailers import (
    DisabledMailer,
    FileOutboxMailer,
    MailTemplateSet,
    OutboxDeliveryLoop,
    SmtpMailer,
)
from chatsvg.application.accounts.oauth import OAuthSignIn
from chatsvg.application.accounts.ports import OAuthProvider
from chatsvg.application.accounts.recovery import PasswordRecovery
from chatsvg.application.mail.outbox import DeliveryPolicy, MailOutbox
from chatsvg.application.ports import Mailer
from chatsvg.entrypoints.accounts_settings import AccountsSettings, load_accounts_settings
from chatsvg.entrypoints.containers import Container
from chatsvg.entrypoints.http.controllers.accounts import (
    AccountsController,
    AccountsFeature,
    OAuthStateSealer,
)
from chatsvg.entrypoints.settings import Settings, SettingsError

log = logging.getLogger("chatsvg.accounts")


@dataclass
class AccountsInstall:
    route_handlers: list[Any] = field(default_factory=list)
    oauth_providers: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    # Coroutine functions run at app start-up and shut-down (e.g. a mail delivery loop).
    on_startup: list[Any] = field(default_factory=list)
    on_shutdown: list[Any] = field(default_factory=list)


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


def build_oauth_providers(accounts: AccountsSettings) -> list[OAuthProvider]:
    providers: list[OAuthProvider] = []
    if accounts.google_client_id and accounts.google_client_secret:
        providers.append(
            GoogleProvider(
                client_id=accounts.google_client_id,
                client_secret=accounts.google_client_secret,
                authorize_url=accounts.google_authorize_url,
                token_url=accounts.google_token_url,
                jwks_url=accounts.google_jwks_url,
                issuers=accounts.google_issuers,
                timeout_seconds=accounts.oauth_timeout_seconds,
            )
        )
    if accounts.github_client_id and accounts.github_client_secret:
        providers.append(
            GitHubProvider(
                client_id=accounts.github_client_id,
                client_secret=accounts.github_client_secret,
                authorize_url=accounts.github_authorize_url,
                token_url=accounts.github_token_url,
                api_url=accounts.github_api_url,
                timeout_seconds=accounts.oauth_timeout_seconds,
            )
        )
    return providers


def install_accounts(
    container: Container, settings: Settings, accounts: AccountsSettings | None = None
) -> AccountsInstall:
    accounts = accounts or load_accounts_settings()
    uow = container.uow()
    clock = container.clock()
    outbox = MailOutbox(
        uow=uow,
        mailer=build_mailer(accounts, settings),
        clock=clock,
        policy=DeliveryPolicy(
            max_attempts=accounts.mail_max_attempts,
            backoff_base_seconds=accounts.mail_retry_base_seconds,
            backoff_cap_seconds=accounts.mail_retry_cap_seconds,
        ),
    )
    delivery = OutboxDeliveryLoop(outbox, poll_seconds=accounts.mail_poll_seconds)
    mail_on = accounts.effective_mail_backend != "none"
    if not mail_on:
        outbox.on_enqueued(
            lambda: log.warning("mail is off (CHATSVG_MAIL_BACKEND=none): a message stays unsent")
        )
    recovery = PasswordRecovery(
        uow=uow,
        outbox=outbox,
        templates=MailTemplateSet(),
        hasher=container.hasher(),
        clock=clock,
        limiter=container.limiter(),
        realtime=container.realtime(),
        reset_url=accounts.reset_base(settings),
        email_auth_enabled=settings.email_auth_enabled,
        min_response_seconds=accounts.forgot_password_min_seconds,
    )
    providers = build_oauth_providers(accounts)
    oauth = OAuthSignIn(
        uow=uow,
        auth=container.auth_service(),
        clock=clock,
        realtime=container.realtime(),
        providers=providers,
    )
    accounts_feature = AccountsFeature(
        recovery=recovery,
        oauth=oauth,
        outbox=outbox,
        state=OAuthStateSealer(settings.secret_key, accounts.oauth_state_seconds),
        web_app_url=accounts.web_app(settings),
        sign_in_path=accounts.sign_in_path,
        public_url=settings.public_url.rstrip("/"),
        secure_cookies=settings.secure_cookies,
    )
    return AccountsInstall(
        route_handlers=[AccountsController],
        oauth_providers=oauth.provider_names,
        extras={
            "accounts_feature": accounts_feature,
            "accounts_settings": accounts,
            "mail_outbox": outbox,
            "support_inbox": accounts.support_inbox,
        },
        on_startup=[delivery.start] if mail_on else [],
        on_shutdown=[delivery.stop, oauth.aclose],
    )
