"""Settings of mail, password recovery and OAuth sign-in, read once from the environment.

Every field is the environment variable `CHATSVG_<FIELD>` (e.g. `smtp_host` is `CHATSVG_SMTP_HOST`).
See docs/accounts.md for what each one does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from chatsvg.entrypoints.settings import Settings, SettingsError, read_environment


class AccountsSettings(msgspec.Struct, kw_only=True, frozen=True):
    # Mail. Without smtp_host, mail goes to .eml files under <data_dir>/outbox (see `chatsvg mail`).
    smtp_host: str | None = None
    smtp_port: int | None = None  # default: 587 for starttls, 465 for tls, 25 for none
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_from: str = "ChatSVG <no-reply@chatsvg.local>"
    smtp_timeout_seconds: float = 30.0
    smtp_validate_certs: bool = True
    mail_outbox_dir: str | None = None  # default: <data_dir>/outbox
    mail_max_attempts: int = 8
    mail_retry_base_seconds: float = 30.0
    mail_retry_cap_seconds: float = 3600.0
    mail_poll_seconds: float = 5.0
    support_inbox: str | None = None  # where support messages go (used by the support feature)
    # Password recovery
    reset_url: str | None = None  # default: <web_app_url>/reset-password; the link adds ?token=
    forgot_password_min_seconds: float = 0.25
    # Where the browser lands after OAuth. Default: the first web origin, else the API's public URL.
    web_app_url: str | None = None
    sign_in_path: str = "/login"  # errors go to <web_app_url><sign_in_path>?error=<reason>
    # OAuth providers: each is offered only when both its client id and secret are set.
    google_client_id: str | None = None
    google_client_secret: str | None = None
    google_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_url: str = "https://oauth2.googleapis.com/token"
    google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    google_issuers: tuple[str, ...] = ("https://accounts.google.com", "accounts.google.com")
    github_client_id: str | None = None
    github_client_secret: str | None = None
    github_authorize_url: str = "https://github.com/login/oauth/authorize"
    github_token_url: str = "https://github.com/login/oauth/access_token"
    github_api_url: str = "https://api.github.com"
    oauth_timeout_seconds: float = 10.0
    oauth_state_seconds: int = 600

    @property
    def google_enabled(self) -> bool:
        return bool(self.google_client_id and self.google_client_secret)

    @property
    def github_enabled(self) -> bool:
        return bool(self.github_client_id and self.github_client_secret)

    def web_app(self, settings: Settings) -> str:
        if self.web_app_url:
            return self.web_app_url.rstrip("/")
        origins = settings.all_web_origins
        return (origins[0] if origins else settings.public_url).rstrip("/")

    def reset_base(self, settings: Settings) -> str:
        return self.reset_url or f"{self.web_app(settings)}/reset-password"

    def outbox_path(self, settings: Settings) -> Path:
        if self.mail_outbox_dir:
            return Path(self.mail_outbox_dir).expanduser()
        return settings.data_path / "outbox"

    def validate(self) -> AccountsSettings:
        if not self.sign_in_path.startswith("/"):
            raise SettingsError("CHATSVG_SIGN_IN_PATH must start with /.")
        if self.mail_max_attempts < 1:
            raise SettingsError("CHATSVG_MAIL_MAX_ATTEMPTS must be at least 1.")
        for name in ("web_app_url", "reset_url"):
            value = getattr(self, name)
            if value and not value.startswith(("http://", "https://")):
                raise SettingsError(f"CHATSVG_{name.upper()} must be an absolute http(s) URL.")
        return self


_LISTS = {"google_issuers"}


def load_accounts_settings(
    environ: Mapping[str, str] | None = None, **overrides: Any
) -> AccountsSettings:
    return read_environment(AccountsSettings, environ, overrides, lists=_LISTS).validate()
