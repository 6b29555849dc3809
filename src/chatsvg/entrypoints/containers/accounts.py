"""Accounts: passwords and access tokens, sign-up and sessions, account deletion, password
recovery by mail, and OAuth sign-in with the providers whose client id and secret are set."""

from __future__ import annotations

from datetime import timedelta

from dependency_injector import containers, providers

from chatsvg.adapters.accounts.oauth_providers import GitHubProvider, GoogleProvider
from chatsvg.adapters.accounts.passwords import Argon2PasswordHasher
from chatsvg.adapters.accounts.tokens import JwtAccessTokens
from chatsvg.application.accounts.auth import AuthService
from chatsvg.application.accounts.lifecycle import AccountService
from chatsvg.application.accounts.oauth import OAuthSignIn
from chatsvg.application.accounts.ports import OAuthProvider
from chatsvg.application.accounts.recovery import PasswordRecovery
from chatsvg.application.accounts.sessions import LiveSessionCache
from chatsvg.entrypoints.accounts_settings import AccountsSettings
from chatsvg.entrypoints.settings import Settings


def build_oauth_providers(accounts: AccountsSettings) -> list[OAuthProvider]:
    found: list[OAuthProvider] = []
    if accounts.google_client_id and accounts.google_client_secret:
        found.append(
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
        found.append(
            GitHubProvider(
                client_id=accounts.github_client_id,
                client_secret=accounts.github_client_secret,
                authorize_url=accounts.github_authorize_url,
                token_url=accounts.github_token_url,
                api_url=accounts.github_api_url,
                timeout_seconds=accounts.oauth_timeout_seconds,
            )
        )
    return found


def make_session_cache(settings: Settings) -> LiveSessionCache | None:
    if settings.session_cache_seconds <= 0:
        return None
    return LiveSessionCache(settings.session_cache_seconds)


def reset_url(accounts: AccountsSettings, settings: Settings) -> str:
    return accounts.reset_base(settings)


class Accounts(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    accounts_settings = providers.Dependency(instance_of=AccountsSettings)
    infra = providers.DependenciesContainer()
    mail = providers.DependenciesContainer()

    hasher = providers.Singleton(
        Argon2PasswordHasher,
        time_cost=settings.provided.argon2_time_cost,
        memory_cost=settings.provided.argon2_memory_kib,
    )
    access_tokens = providers.Singleton(
        JwtAccessTokens,
        secret=settings.provided.secret_key,
        clock=infra.clock,
        lifetime=providers.Factory(timedelta, seconds=settings.provided.access_token_seconds),
    )
    session_cache = providers.Singleton(make_session_cache, settings)

    auth = providers.Singleton(
        AuthService,
        uow=infra.uow,
        hasher=hasher,
        tokens=access_tokens,
        clock=infra.clock,
        limiter=infra.limiter,
        realtime=infra.realtime,
        start_credits=settings.provided.start_credits,
        email_auth_enabled=settings.provided.email_auth_enabled,
        session_cache=session_cache,
    )
    lifecycle = providers.Singleton(
        AccountService,
        uow=infra.uow,
        hasher=hasher,
        storage=infra.storage,
        realtime=infra.realtime,
        clock=infra.clock,
        gallery=infra.gallery_cache,
    )
    recovery = providers.Singleton(
        PasswordRecovery,
        uow=infra.uow,
        outbox=mail.outbox,
        templates=mail.templates,
        hasher=hasher,
        clock=infra.clock,
        limiter=infra.limiter,
        realtime=infra.realtime,
        reset_url=providers.Callable(reset_url, accounts_settings, settings),
        email_auth_enabled=settings.provided.email_auth_enabled,
        min_response_seconds=accounts_settings.provided.forgot_password_min_seconds,
    )
    oauth_providers = providers.Singleton(build_oauth_providers, accounts_settings)
    oauth = providers.Singleton(
        OAuthSignIn,
        uow=infra.uow,
        auth=auth,
        clock=infra.clock,
        realtime=infra.realtime,
        providers=oauth_providers,
    )
