"""What every `chatsvg` command does before its work: read and check the settings, set up logging,
and warn about `CHATSVG_*` variables that are not settings.

A configuration error raises `SettingsError`, which the CLI turns into `configuration error: ...`
on stderr and exit code 2 before anything starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator, Mapping
from typing import Any

from chatsvg.entrypoints.accounts_settings import (
    AccountsSettings,
    Role,
    load_accounts_settings,
)
from chatsvg.entrypoints.logs import configure_logging
from chatsvg.entrypoints.plan_settings import check_billing_settings
from chatsvg.entrypoints.settings import ALIASES, Settings, load_settings, unknown_variables

log = logging.getLogger("chatsvg.settings")

SETTINGS_STRUCTS = (Settings, AccountsSettings)


def environment_names() -> set[str]:
    """Every environment variable the settings are read from: `CHATSVG_<FIELD>` for each field of
    both settings objects, and the contract's unprefixed names (`DATABASE_URL`, ...)."""
    names = {f"CHATSVG_{f.upper()}" for s in SETTINGS_STRUCTS for f in s.__struct_fields__}
    return names | set(ALIASES)


def check_environment(
    role: Role | None = None, environ: Mapping[str, str] | None = None, **overrides: Any
) -> tuple[Settings, AccountsSettings, list[str]]:
    """Read both settings objects and run the start-up check of `role` (None: only the settings'
    own validation). Returns them with the warnings to report; raises SettingsError."""
    env = os.environ if environ is None else environ
    settings = load_settings(env, **overrides)
    accounts = load_accounts_settings(env)
    warnings = unknown_variables(env, SETTINGS_STRUCTS)
    warnings += check_billing_settings(settings)  # plans' figures, PayPal's credentials
    if role is not None:
        warnings += accounts.check_startup(settings, role=role)
    return settings, accounts, warnings


def prepare(role: Role | None = None, **overrides: Any) -> tuple[Settings, AccountsSettings]:
    """`check_environment` on this process's environment, then logging set up and the warnings
    logged."""
    settings, accounts, warnings = check_environment(role, **overrides)
    configure_logging(settings)
    for message in warnings:
        log.warning(message)
    return settings, accounts


class DatabaseUnreachable(ConnectionError):
    """The database could not be reached (the CLI reports it in one line, exit code 1)."""


@contextlib.contextmanager
def reaching_database(settings: Settings) -> Iterator[None]:
    """Name the database in a connection failure (the driver's own error names only an address)."""
    try:
        yield
    except (ConnectionError, socket.gaierror, TimeoutError) as exc:
        if isinstance(exc, DatabaseUnreachable):
            raise
        raise DatabaseUnreachable(
            f"cannot reach the database {database_label(settings.effective_database_url)}: {exc}"
        ) from exc


def database_label(url: str) -> str:
    """Where a database URL points, without its credentials."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database)
    return f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"
