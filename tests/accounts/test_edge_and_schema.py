"""Small pieces with sharp edges: the redirect rule, the signed OAuth state cookie, the accounts
settings, and the migration matching the tables."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chatsvg.adapters.sql.engine import SqlDatabase
from chatsvg.adapters.sql.migrate import upgrade
from chatsvg.adapters.sql.oauth_tables import mail_outbox, oauth_identities
from chatsvg.adapters.sql.tables import metadata
from chatsvg.entrypoints.accounts_settings import load_accounts_settings
from chatsvg.entrypoints.containers.accounts import build_oauth_providers
from chatsvg.entrypoints.http.controllers.accounts import (
    OAuthStateSealer,
    PendingSignIn,
    safe_redirect_path,
)
from chatsvg.entrypoints.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/gallery", "/gallery"),
        ("/svg/abc?tab=code#top", "/svg/abc?tab=code#top"),
        ("/", "/"),
        (None, "/"),
        ("", "/"),
        ("gallery", "/"),
        ("https://evil.example/", "/"),
        ("HTTPS://evil.example/", "/"),
        ("//evil.example", "/"),
        ("///evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\/evil.example", "/"),
        ("/\r\nLocation: https://evil.example", "/"),
        ("/\x00", "/"),
        ("/gällery", "/"),
        ("/a b", "/"),
        ("/g%C3%A4llery?q=a%20b", "/g%C3%A4llery?q=a%20b"),
        ("javascript:alert(1)", "/"),
        ("/" + "a" * 5000, "/"),
    ],
)
def test_only_relative_paths_are_kept(given: str | None, expected: str) -> None:
    assert safe_redirect_path(given) == expected


def pending(expires_in: float = 600) -> PendingSignIn:
    return PendingSignIn(
        provider="google",
        state="s" * 43,
        nonce="n" * 43,
        verifier="v" * 43,
        redirect_path="/gallery",
        expires_at=time.time() + expires_in,
    )


def test_the_state_cookie_is_signed_and_short_lived() -> None:
    sealer = OAuthStateSealer("secret-one" * 4, 600)
    original = pending()
    value = sealer.seal(original)
    assert sealer.open(value, time.time()) == original
    payload, _, mac = value.rpartition(".")
    assert sealer.open(f"{payload}x.{mac}", time.time()) is None
    assert sealer.open(f"{payload}.{'0' * len(mac)}", time.time()) is None
    assert OAuthStateSealer("another-secret" * 3, 600).open(value, time.time()) is None
    assert sealer.open(sealer.seal(pending(expires_in=-1)), time.time()) is None
    for junk in (None, "", "no-dot", "a.b", "." * 5000):
        assert sealer.open(junk, time.time()) is None


def test_providers_appear_only_with_both_id_and_secret() -> None:
    assert build_oauth_providers(load_accounts_settings({})) == []
    only_id = load_accounts_settings({"CHATSVG_GOOGLE_CLIENT_ID": "x"})
    assert build_oauth_providers(only_id) == []
    both = load_accounts_settings(
        {
            "CHATSVG_GITHUB_CLIENT_ID": "x",
            "CHATSVG_GITHUB_CLIENT_SECRET": "y",
            "CHATSVG_GOOGLE_CLIENT_ID": "x",
            "CHATSVG_GOOGLE_CLIENT_SECRET": "y",
        }
    )
    assert [p.name for p in build_oauth_providers(both)] == ["google", "github"]


def test_accounts_settings_defaults_and_validation(tmp_path: Path) -> None:
    settings = load_settings({}, data_dir=str(tmp_path))
    accounts = load_accounts_settings({"CHATSVG_SMTP_PORT": "2525", "CHATSVG_SMTP_TLS": "tls"})
    assert accounts.smtp_port == 2525 and accounts.smtp_tls == "tls"
    assert accounts.web_app(settings) == "http://localhost:5173"
    assert accounts.reset_base(settings) == "http://localhost:5173/reset-password"
    assert accounts.outbox_path(settings) == tmp_path / "outbox"
    production = load_settings(
        {},
        mode="production",
        secret_key="k" * 40,
        public_url="https://api.example",
    )
    assert accounts.web_app(production) == "https://api.example"
    with pytest.raises(SettingsError):
        load_accounts_settings({"CHATSVG_SMTP_TLS": "sometimes"})
    with pytest.raises(SettingsError):
        load_accounts_settings({"CHATSVG_WEB_APP_URL": "javascript:alert(1)"})
    with pytest.raises(SettingsError):
        load_accounts_settings({"CHATSVG_SIGN_IN_PATH": "login"})


async def test_the_migrations_create_exactly_the_tables_of_the_metadata(tmp_path: Path) -> None:
    assert {oauth_identities.name, mail_outbox.name} <= set(metadata.tables)
    db = SqlDatabase(f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}")
    try:
        await upgrade(db.engine)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await db.dispose()
    assert diff == []
