"""The API process's edge: request security, the OAuth redirects' state, signed file links, and
the Socket.IO server (built over the realtime publisher's client manager, after the services)."""

from __future__ import annotations

from dependency_injector import containers, providers

from chatsvg.entrypoints.accounts_settings import AccountsSettings
from chatsvg.entrypoints.http.controllers.accounts import OAuthStateSealer, OAuthWeb
from chatsvg.entrypoints.http.security import WebSecurity
from chatsvg.entrypoints.http.signed_files import SignedFiles
from chatsvg.entrypoints.realtime import create_socket_server
from chatsvg.entrypoints.settings import Settings


def make_oauth_web(settings: Settings, accounts: AccountsSettings) -> OAuthWeb:
    return OAuthWeb(
        state=OAuthStateSealer(settings.secret_key, accounts.oauth_state_seconds),
        web_app_url=accounts.web_app(settings),
        sign_in_path=accounts.sign_in_path,
        public_url=settings.public_url.rstrip("/"),
        secure_cookies=settings.secure_cookies,
    )


def own_origins(settings: Settings) -> list[str]:
    return [settings.public_url.rstrip("/")]


class Web(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    accounts_settings = providers.Dependency(instance_of=AccountsSettings)
    infra = providers.DependenciesContainer()
    accounts = providers.DependenciesContainer()
    generation = providers.DependenciesContainer()

    security = providers.Singleton(WebSecurity.from_settings, settings)
    oauth_web = providers.Singleton(make_oauth_web, settings, accounts_settings)
    signed_files = providers.Singleton(SignedFiles, infra.storage)
    socket_server = providers.Singleton(
        create_socket_server,
        manager=infra.socket_manager,
        authenticate=accounts.auth.provided.authenticate,
        replay=generation.submission.provided.live_updates,
        web_origins=settings.provided.all_web_origins,
        own_origins=providers.Callable(own_origins, settings),
    )
