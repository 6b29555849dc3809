import pytest

from chatsvg.entrypoints.settings import DEFAULT_SECRET, SettingsError, load_settings


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
    assert (settings.s3_bucket, settings.openai_api_key, settings.start_credits) == ("b", "sk-x", 25)


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


@pytest.mark.parametrize("env", [{"CHATSVG_START_CREDITS": "many"}, {"CHATSVG_RATE_LOGIN": "ten per minute"}])
def test_malformed_settings_are_refused_with_a_clear_error(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        load_settings(env)


def test_several_api_processes_need_production_mode() -> None:
    from chatsvg.entrypoints.server import serve

    with pytest.raises(SettingsError):
        serve(load_settings({"CHATSVG_API_WORKERS": "2"}), host="127.0.0.1", port=0)
