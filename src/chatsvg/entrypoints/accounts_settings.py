"""Settings of mail, password recovery and OAuth sign-in, read once from the environment.

Every field is the environment variable `CHATSVG_<FIELD>` (e.g. `smtp_host` is `CHATSVG_SMTP_HOST`).
See docs/accounts.md for what each one does, and docs/deploy.md for production.

`check_startup()` is what `chatsvg serve`, `chatsvg worker` and `chatsvg check-config` run before
anything starts: in production mode the API refuses to start (configuration error, exit 2) until
mail is configured, or deliberately turned off with `CHATSVG_MAIL_BACKEND=none`. Mail is never
written to local files in production unless `CHATSVG_MAIL_BACKEND=files` asks for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from chatsvg.entrypoints.settings import Settings, SettingsError, read_environment

MailBackend = Literal["smtp", "files", "none"]
# The processes whose start-up is checked: the API sends mail and runs OAuth; the worker does neither.
Role = Literal["api", "worker"]
DEFAULT_SENDER = "ChatSVG <no-reply@chatsvg.local>"

_PRODUCTION_NEEDS_MAIL = (
    "Production mode needs a way to send mail (password resets, support messages): set "
    "CHATSVG_SMTP_HOST (with CHATSVG_SMTP_FROM and CHATSVG_SUPPORT_INBOX), or set "
    "CHATSVG_MAIL_BACKEND=none to run without mail on purpose, or CHATSVG_MAIL_BACKEND=files with "
    "CHATSVG_MAIL_OUTBOX_DIR on a writable volume (see docs/deploy.md)."
)


class AccountsSettings(msgspec.Struct, kw_only=True, frozen=True):
    # How mail leaves: "smtp" (through smtp_host), "files" (.eml files under mail_outbox_dir, read
    # with `chatsvg mail`), or "none" (mail stays unsent in the mail_outbox table). Unset: "smtp"
    # when smtp_host is set, else "files", which production mode refuses (check_startup).
    mail_backend: MailBackend | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None  # default: 587 for starttls, 465 for tls, 25 for none
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_from: str = DEFAULT_SENDER
    smtp_timeout_seconds: float = 30.0
    smtp_validate_certs: bool = True
    mail_outbox_dir: str | None = None  # for "files"; default: <data_dir>/outbox
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
    def effective_mail_backend(self) -> MailBackend:
        if self.mail_backend is not None:
            return self.mail_backend
        return "smtp" if self.smtp_host else "files"

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

    def check_startup(self, settings: Settings, *, role: Role) -> list[str]:
        """What a process of `role` needs before it starts. Raises SettingsError (all problems in one
        message) for a configuration it cannot work with; returns warnings for the rest. The
        worker sends no mail and runs no sign-in: nothing here concerns it."""
        if role == "worker":
            return []
        problems: list[str] = []
        warnings: list[str] = []
        backend = self.effective_mail_backend
        if backend == "smtp":
            if not self.smtp_host:
                problems.append("CHATSVG_MAIL_BACKEND=smtp needs CHATSVG_SMTP_HOST.")
            if self.smtp_username and not self.smtp_password:
                problems.append("CHATSVG_SMTP_USERNAME is set but CHATSVG_SMTP_PASSWORD is not.")
            if self.smtp_password and not self.smtp_username:
                warnings.append(
                    "CHATSVG_SMTP_PASSWORD is set without CHATSVG_SMTP_USERNAME: it is not used."
                )
        elif self.smtp_host:
            warnings.append(
                f"CHATSVG_SMTP_HOST is set but CHATSVG_MAIL_BACKEND={backend}: mail does not use it."
            )
        if backend == "none":
            warnings.append(
                "mail is off (CHATSVG_MAIL_BACKEND=none): password-reset and support messages stay "
                "unsent in the mail_outbox table"
            )
        if not settings.local:
            problems += self._production_api_problems(settings, warnings)
        if problems:
            raise SettingsError(" ".join(problems))
        return warnings

    def _production_api_problems(self, settings: Settings, warnings: list[str]) -> list[str]:
        problems: list[str] = []
        backend = self.effective_mail_backend
        if self.mail_backend is None and not self.smtp_host:
            problems.append(_PRODUCTION_NEEDS_MAIL)
        elif backend == "smtp":
            if self.smtp_from == DEFAULT_SENDER:
                problems.append(
                    "CHATSVG_SMTP_FROM must be set in production mode, to an address your SMTP "
                    f"provider lets you send as (the default {DEFAULT_SENDER!r} is undeliverable)."
                )
            if not self.support_inbox:
                problems.append(
                    "CHATSVG_SUPPORT_INBOX must be set in production mode: support messages are "
                    "mailed there."
                )
        elif backend == "files":
            directory = self.outbox_path(settings)
            error = _not_writable(directory)
            if error:
                problems.append(
                    f"CHATSVG_MAIL_BACKEND=files, but the outbox directory {directory} is not "
                    f"writable ({error}): set CHATSVG_MAIL_OUTBOX_DIR to a writable volume."
                )
            else:
                warnings.append(
                    f"mail is written to {directory} (CHATSVG_MAIL_BACKEND=files), not sent"
                )
        for provider in ("google", "github"):
            client_id = getattr(self, f"{provider}_client_id")
            secret = getattr(self, f"{provider}_client_secret")
            if bool(client_id) != bool(secret):
                name = f"CHATSVG_{provider.upper()}_CLIENT"
                problems.append(
                    f"{name}_ID and {name}_SECRET must be set together ({provider} sign-in is off "
                    "with only one of them)."
                )
        return problems


def _not_writable(directory: Path) -> str | None:
    """Why files cannot be written in `directory` (created if missing), or None."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".chatsvg-write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


_LISTS = {"google_issuers"}


def load_accounts_settings(
    environ: Mapping[str, str] | None = None, **overrides: Any
) -> AccountsSettings:
    return read_environment(AccountsSettings, environ, overrides, lists=_LISTS).validate()
