import subprocess
import sys
from pathlib import Path

import pytest

from chatsvg.adapters.mail.mailers import (
    DisabledMailer,
    FileOutboxMailer,
    MailDeliveryOff,
    SmtpMailer,
)
from chatsvg.application.ports import MailMessage
from chatsvg.entrypoints.accounts_settings import AccountsSettings, Role
from chatsvg.entrypoints.containers.mail import build_mailer
from chatsvg.entrypoints.settings import (
    DEFAULT_SECRET,
    NOT_SETTINGS,
    Settings,
    SettingsError,
    load_settings,
    unknown_variables,
)
from chatsvg.entrypoints.startup import check_environment


def test_local_defaults_run_on_plain_http_with_embedded_parts() -> None:
    settings = load_settings({})
    assert settings.local and not settings.secure_cookies
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.effective_queue == "inprocess" and settings.runs_embedded_worker
    assert settings.all_web_origins == ["http://localhost:5173", "http://127.0.0.1:5173"]
    assert settings.start_credits == 10


def test_contract_names_are_read_from_the_environment() -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "postgres://u@db/chatsvg",
            "REDIS_URL": "redis://r:6379/0",
            "S3_BUCKET": "b",
            "OPENAI_API_KEY": "sk-x",
            "CHATSVG_WEB_ORIGINS": "https://app.example.com, https://www.example.com",
            "CHATSVG_START_CREDITS": "25",
        }
    )
    assert settings.effective_database_url == "postgresql+asyncpg://u@db/chatsvg"
    assert settings.effective_queue == "dramatiq" and not settings.runs_embedded_worker
    assert settings.all_web_origins == ["https://app.example.com", "https://www.example.com"]
    assert (settings.s3_bucket, settings.openai_api_key, settings.start_credits) == (
        "b",
        "sk-x",
        25,
    )


@pytest.mark.parametrize("secret", [None, DEFAULT_SECRET, "short"])
def test_production_mode_refuses_a_default_or_weak_secret(secret: str | None) -> None:
    env = {"CHATSVG_MODE": "production"}
    if secret:
        env["CHATSVG_SECRET_KEY"] = secret
    with pytest.raises(SettingsError):
        load_settings(env)


def test_production_mode_with_a_real_secret_uses_secure_cookies() -> None:
    settings = load_settings({"CHATSVG_MODE": "production", "CHATSVG_SECRET_KEY": "s" * 40})
    assert settings.secure_cookies and not settings.playground_enabled


@pytest.mark.parametrize(
    "env", [{"CHATSVG_START_CREDITS": "many"}, {"CHATSVG_RATE_LOGIN": "ten per minute"}]
)
def test_malformed_settings_are_refused_with_a_clear_error(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        load_settings(env)


def test_several_api_processes_need_production_mode() -> None:
    from chatsvg.entrypoints.server import serve

    with pytest.raises(SettingsError):
        serve(load_settings({"CHATSVG_API_WORKERS": "2"}), host="127.0.0.1", port=0)


# -- log level, unknown variables ----------------------------------------------------------------


@pytest.mark.parametrize("level", ["loud", "WARN", "10"])
def test_an_unknown_log_level_is_a_configuration_error(level: str) -> None:
    with pytest.raises(SettingsError, match="CHATSVG_LOG_LEVEL"):
        load_settings({"CHATSVG_LOG_LEVEL": level})


def test_log_levels_are_read_in_any_case() -> None:
    assert load_settings({"CHATSVG_LOG_LEVEL": "debug"}).log_level == "debug"


def test_unknown_chatsvg_variables_are_reported_with_the_closest_setting() -> None:
    env = {
        "CHATSVG_LOG_LEVL": "DEBUG",  # a typo of a Settings field
        "CHATSVG_SMTP_HOSTNAME": "smtp.example.com",  # ... of an AccountsSettings field
        "CHATSVG_NOTHING_LIKE_IT": "1",
        "CHATSVG_LOG_LEVEL": "INFO",
        "CHATSVG_SMTP_HOST": "smtp.example.com",
        "DATABASE_URL": "postgresql://db/x",
        "PATH": "/usr/bin",
        # the test suite's own switches are no settings, and no mistake either
        "CHATSVG_TEST_REDIS": "redis://127.0.0.1:6379/4",
        "CHATSVG_TEST_PG_ADMIN": "postgresql://postgres@127.0.0.1/postgres",
        "CHATSVG_SKIP_REAL": "1",
    }
    messages = unknown_variables(env, (Settings, AccountsSettings))
    assert messages == [
        "CHATSVG_LOG_LEVL is not a ChatSVG setting and is ignored; did you mean CHATSVG_LOG_LEVEL?",
        "CHATSVG_NOTHING_LIKE_IT is not a ChatSVG setting and is ignored",
        "CHATSVG_SMTP_HOSTNAME is not a ChatSVG setting and is ignored; did you mean CHATSVG_SMTP_HOST?",
    ]
    assert {"CHATSVG_TEST_REDIS", "CHATSVG_TEST_PG_ADMIN", "CHATSVG_SKIP_REAL"} <= NOT_SETTINGS


def test_the_environment_check_returns_the_unknown_variable_warnings() -> None:
    env = {"CHATSVG_START_CREDIT": "5"}
    settings, _accounts, warnings = check_environment(None, env)
    assert settings.start_credits == 10  # the typo changed nothing...
    assert warnings == [  # ...and says so
        "CHATSVG_START_CREDIT is not a ChatSVG setting and is ignored; "
        "did you mean CHATSVG_START_CREDITS?"
    ]


# -- mail in production: the start-up check -----------------------------------------------------

PRODUCTION = {"CHATSVG_MODE": "production", "CHATSVG_SECRET_KEY": "k" * 40}
SMTP = {
    "CHATSVG_SMTP_HOST": "smtp.example.com",
    "CHATSVG_SMTP_FROM": "ChatSVG <no-reply@chatsvg.example.com>",
    "CHATSVG_SUPPORT_INBOX": "support@chatsvg.example.com",
}


def startup(env: dict[str, str], role: Role = "api") -> list[str]:
    return check_environment(role, env)[2]


def test_local_mode_keeps_writing_mail_to_files_without_a_word() -> None:
    settings, accounts, warnings = check_environment("api", {})
    assert accounts.effective_mail_backend == "files" and warnings == []
    assert isinstance(build_mailer(accounts, settings), FileOutboxMailer)


def test_production_refuses_to_start_the_api_without_a_way_to_send_mail() -> None:
    with pytest.raises(SettingsError) as refused:
        startup(PRODUCTION)
    message = str(refused.value)
    assert "CHATSVG_SMTP_HOST" in message and "CHATSVG_MAIL_BACKEND=none" in message


def test_production_starts_the_worker_whatever_the_mail_settings() -> None:
    # the worker sends no mail and runs no sign-in
    assert startup(PRODUCTION, role="worker") == []
    odd = {"CHATSVG_SMTP_USERNAME": "u", "CHATSVG_GOOGLE_CLIENT_ID": "id"}
    assert startup({**PRODUCTION, **odd}, role="worker") == []
    with pytest.raises(SettingsError):
        startup({**PRODUCTION, **odd})


def test_production_with_smtp_needs_a_real_sender_and_a_support_inbox() -> None:
    with pytest.raises(SettingsError) as refused:
        startup({**PRODUCTION, "CHATSVG_SMTP_HOST": "smtp.example.com"})
    assert "CHATSVG_SMTP_FROM" in str(refused.value)
    assert "CHATSVG_SUPPORT_INBOX" in str(refused.value)
    settings, accounts, warnings = check_environment("api", {**PRODUCTION, **SMTP})
    assert warnings == [] and accounts.effective_mail_backend == "smtp"
    mailer = build_mailer(accounts, settings)
    assert isinstance(mailer, SmtpMailer) and mailer.port == 587


@pytest.mark.parametrize("mode", [{}, PRODUCTION])
def test_an_smtp_login_needs_its_password_in_any_mode(mode: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="CHATSVG_SMTP_PASSWORD"):
        startup({**mode, **SMTP, "CHATSVG_SMTP_USERNAME": "chatsvg"})
    assert (
        startup({**mode, **SMTP, "CHATSVG_SMTP_USERNAME": "u", "CHATSVG_SMTP_PASSWORD": "p"}) == []
    )


def test_an_explicit_smtp_backend_needs_a_host() -> None:
    with pytest.raises(SettingsError, match="CHATSVG_SMTP_HOST"):
        startup({"CHATSVG_MAIL_BACKEND": "smtp"})


async def test_mail_deliberately_off_is_accepted_with_a_warning() -> None:
    settings, accounts, warnings = check_environment(
        "api", {**PRODUCTION, "CHATSVG_MAIL_BACKEND": "none"}
    )
    assert [w for w in warnings if "CHATSVG_MAIL_BACKEND=none" in w]
    mailer = build_mailer(accounts, settings)
    assert isinstance(mailer, DisabledMailer)
    with pytest.raises(MailDeliveryOff):
        await mailer.send(MailMessage("ada@example.com", "s", "t"))


def test_the_files_backend_in_production_needs_a_writable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    files = {**PRODUCTION, "CHATSVG_MAIL_BACKEND": "files"}
    with pytest.raises(SettingsError, match="not writable"):
        startup({**files, "CHATSVG_MAIL_OUTBOX_DIR": str(blocker / "outbox")})
    outbox = tmp_path / "outbox"
    settings, accounts, warnings = check_environment(
        "api", {**files, "CHATSVG_MAIL_OUTBOX_DIR": str(outbox)}
    )
    assert outbox.is_dir() and list(outbox.iterdir()) == []  # the probe file is gone
    assert [w for w in warnings if str(outbox) in w]
    assert isinstance(build_mailer(accounts, settings), FileOutboxMailer)


@pytest.mark.parametrize(
    "half",
    [{"CHATSVG_GOOGLE_CLIENT_ID": "id"}, {"CHATSVG_GITHUB_CLIENT_SECRET": "secret"}],
)
def test_production_refuses_half_an_oauth_client(half: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="must be set together"):
        startup({**PRODUCTION, **SMTP, **half})
    assert startup(half) == []  # local mode: the provider is simply off, as before


def test_the_cli_refuses_to_serve_production_without_mail(tmp_path: Path) -> None:
    """`chatsvg serve` itself: exit code 2 and one line on stderr, before anything starts."""
    result = subprocess.run(
        [sys.executable, "-m", "chatsvg.entrypoints.cli", "serve", "--port", "1"],
        env={**PRODUCTION, "PATH": "/usr/bin:/bin", "CHATSVG_DATA_DIR": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("configuration error: Production mode needs a way to send mail")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_with_mail_off_no_delivery_loop_runs(tmp_path: Path) -> None:
    from chatsvg.entrypoints.containers import create_container

    settings = load_settings({}, data_dir=str(tmp_path))
    off = create_container(settings, AccountsSettings(mail_backend="none"))
    on = create_container(settings, AccountsSettings())
    assert not off.mail.delivers() and on.mail.delivers()
