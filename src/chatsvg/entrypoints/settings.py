"""Typed settings, read once from the environment (msgspec converts and validates them)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec

DEFAULT_SECRET = "chatsvg-local-development-secret-change-me"

REAL_MODELS = ("gpt-5.2-2025-12-11", "gpt-5-mini-2025-08-07", "gpt-4o")


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# CHATSVG_* variables that are not settings of the application but switches of the test suite
# (tests/conftest.py, tests/support) and of the docs screenshot: no start-up warning for these.
NOT_SETTINGS = frozenset(
    {
        "CHATSVG_TEST_REDIS",
        "CHATSVG_TEST_PG_ADMIN",
        "CHATSVG_SKIP_REAL",
        "CHATSVG_UPDATE_DOCS_SCREENSHOT",
    }
)


class SettingsError(Exception):
    pass


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    mode: Literal["local", "production"] = "local"
    secret_key: str = DEFAULT_SECRET
    data_dir: str = ".chatsvg"
    database_url: str | None = None
    redis_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    web_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    cookie_secure: bool | None = None
    start_credits: int = 10
    access_token_seconds: int = 900
    # How long an API process trusts that a session it saw live is still live without reading it
    # again. Revocations are announced to every process at once (Redis); this only bounds a lost
    # announcement. 0 reads the session on every request.
    session_cache_seconds: float = 10.0
    # The admin page (docs/admin.md): comma-separated addresses that may ask for a sign-in link.
    admin_emails: str = ""
    admin_metrics_cache_seconds: float = 5.0  # how long the admin metrics are reused
    # Generation
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_timeout_seconds: float = 60.0
    # aiohttp keeps thousands of calls in flight at a third of httpx's CPU (see docs/performance.md).
    openai_http_backend: Literal["httpx", "aiohttp"] = "aiohttp"
    # Ask for answers streamed, to push live drafts while the model writes; a JSON answer
    # (json_schema) where the model takes it, free text otherwise.
    openai_stream: bool = True
    openai_structured_output: bool = True
    metrics_port: int = 9100
    # How often the database-wide figures (jobs by status, credits by reason, queue depth) are
    # computed: by one process of the whole deployment per interval (a Redis lock), or by the
    # process itself without Redis. Scrapes read the last figures; they run no queries.
    metrics_interval_seconds: float = 15.0
    # The worker's /health/live (on CHATSVG_METRICS_PORT) answers 503 once its job loop has not
    # ticked for this long, or a Dramatiq thread died.
    worker_liveness_seconds: float = 30.0
    model_map: str = ""  # "client-name=provider-model:cost,..." overrides for the real models
    default_model: str | None = None
    # USD per million input/output tokens, for the jobs' estimated cost: "model=input/output,..."
    # (adds to and overrides the built-in list prices; a dated snapshot uses its base name's).
    model_prices: str = ""
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_public_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_create_bucket: bool = False
    # Concurrent S3 calls per process (boto3 connections, and the threads that run them).
    s3_max_connections: int = 50
    # Hand browsers S3 presigned URLs instead of API-served ones (no nosniff/CSP headers then).
    s3_direct_urls: bool = False
    queue: Literal["inprocess", "dramatiq"] | None = None
    embedded_worker: bool | None = None
    api_workers: int = 1  # `chatsvg serve` processes sharing the port (production mode)
    db_pool_size: int = 20
    db_pool_timeout_seconds: float = 60.0
    db_warm_connections: int = 4  # opened at start-up; the rest of the pool opens on demand
    # A pooled connection idle for longer than this is pinged before use (dropped ones are
    # replaced); connections in steady use are not (no extra round trip per transaction).
    db_ping_idle_seconds: float = 10.0
    worker_concurrency: int = 64  # embedded (in-process) queue: jobs run at once
    worker_threads: int = 8  # `chatsvg worker`: Dramatiq threads that hand jobs to the event loop
    worker_max_in_flight: int = 2000  # `chatsvg worker`: job attempts running at once per process
    # Claim transactions at once, each claiming up to worker_claim_batch jobs; keep it under
    # db_pool_size so that attempts which only need to record the model's answer are not queued
    # behind a burst of new claims.
    worker_claim_concurrency: int = 8
    worker_claim_batch: int = 64
    # Transactions recording finished jobs at once, each recording up to worker_finish_batch.
    worker_finish_concurrency: int = 8
    worker_finish_batch: int = 64
    shutdown_grace_seconds: float = 30.0
    max_attempts: int = 4
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 30.0
    lease_seconds: float = 120.0
    stale_queued_seconds: float = 90.0
    reaper_interval_seconds: float = 15.0
    circuit_threshold: int = 5
    circuit_cooldown_seconds: float = 10.0
    offline_delay_seconds: float = 0.0
    low_credit_threshold: int = 2
    daily_quota: int = 0
    # Accounts
    email_auth_enabled: bool = True
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    # Rate limits: "N/SECONDS" per purpose, 0 disables.
    rate_login: str = "10/900"
    rate_admin_access: str = "5/900"  # sign-in link requests to the admin page, per client
    rate_register: str = "20/3600"
    rate_forgot_password: str = "5/3600"
    rate_generate: str = "30/300"
    rate_download: str = "120/60"
    rate_support: str = "5/3600"
    # Plans (docs/billing.md): the figures of FREE and SUPPORTER; a negative number is unlimited.
    plan_quotas: bool = True  # false: no per-window generation quota (self-hosting, load tests)
    plan_window_days: int = 30
    plan_free_generations: int = 30
    plan_free_api_keys: int = 1
    plan_free_api_access: bool = True
    plan_free_rate_limits: str = "5/50/200"  # per minute/hour/day
    plan_supporter_price: float = 5.0
    plan_supporter_credits: int = 300
    plan_supporter_refill: int = 300
    plan_supporter_generations: int = 300
    plan_supporter_api_keys: int = 5
    plan_supporter_api_access: bool = True
    plan_supporter_rate_limits: str = "20/300/2000"
    # Billing: PayPal subscriptions, on when the client id and secret are set (docs/billing.md).
    paypal_client_id: str | None = None
    paypal_client_secret: str | None = None
    paypal_base_url: str = "https://api-m.sandbox.paypal.com"
    paypal_webhook_id: str | None = None
    paypal_supporter_plan_id: str | None = None
    paypal_return_url: str | None = None
    paypal_cancel_url: str | None = None
    paypal_timeout_seconds: float = 15.0
    billing_sweep_interval_seconds: float = 3600.0
    # Web
    playground: bool | None = None
    log_level: str = "INFO"
    log_json: bool | None = None

    @property
    def admin_email_set(self) -> frozenset[str]:
        return frozenset(e.strip().lower() for e in self.admin_emails.split(",") if e.strip())

    @property
    def local(self) -> bool:
        return self.mode == "local"

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return not self.local

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgres://"):
                url = "postgresql+asyncpg://" + url[len("postgres://") :]
            elif url.startswith("postgresql://"):
                url = "postgresql+asyncpg://" + url[len("postgresql://") :]
            return url
        return f"sqlite+aiosqlite:///{(self.data_path / 'chatsvg.db').resolve()}"

    @property
    def effective_queue(self) -> str:
        return self.queue or ("dramatiq" if self.redis_url else "inprocess")

    @property
    def runs_embedded_worker(self) -> bool:
        if self.embedded_worker is not None:
            return self.embedded_worker
        return self.effective_queue == "inprocess"

    @property
    def playground_enabled(self) -> bool:
        return self.local if self.playground is None else self.playground

    @property
    def all_web_origins(self) -> list[str]:
        if self.web_origins:
            return [o.rstrip("/") for o in self.web_origins]
        if self.local:
            return ["http://localhost:5173", "http://127.0.0.1:5173"]
        return []

    @property
    def admin_page_url(self) -> str:
        """The web app's admin page: on its first origin, else on this server."""
        origins = self.all_web_origins
        return (origins[0] if origins else self.public_url.rstrip("/")) + "/admin"

    def validate(self) -> Settings:
        if self.mode == "production" and (
            self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32
        ):
            raise SettingsError(
                "CHATSVG_SECRET_KEY must be set to a random value of at least 32 characters in production mode."
            )
        for purpose in (
            "login",
            "register",
            "forgot_password",
            "generate",
            "download",
            "support",
            "admin_access",
        ):
            parse_rate(getattr(self, f"rate_{purpose}"))
        if self.log_level.upper() not in LOG_LEVELS:
            raise SettingsError(
                f"CHATSVG_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}; got {self.log_level!r}."
            )
        return self


def parse_rate(text: str) -> tuple[int, int]:
    try:
        count, seconds = text.split("/", 1)
        limit, window = int(count), int(seconds)
    except ValueError:
        raise SettingsError(
            f"A rate limit is written N/SECONDS, e.g. 10/900; got {text!r}."
        ) from None
    if limit < 0 or window <= 0:
        raise SettingsError(f"Invalid rate limit {text!r}.")
    return limit, window


# Names fixed by the contract, mapped to fields; every other field is CHATSVG_<FIELD>.
ALIASES = {
    "DATABASE_URL": "database_url",
    "ADMIN_EMAILS": "admin_emails",
    "REDIS_URL": "redis_url",
    "S3_BUCKET": "s3_bucket",
    "S3_ENDPOINT_URL": "s3_endpoint_url",
    "OPENAI_API_KEY": "openai_api_key",
    "OPENAI_BASE_URL": "openai_base_url",
    "PAYPAL_CLIENT_ID": "paypal_client_id",
    "PAYPAL_CLIENT_SECRET": "paypal_client_secret",
    "PAYPAL_BASE_URL": "paypal_base_url",
    "PAYPAL_WEBHOOK_ID": "paypal_webhook_id",
    "PAYPAL_SUPPORTER_PLAN_ID": "paypal_supporter_plan_id",
    "PAYPAL_RETURN_URL": "paypal_return_url",
    "PAYPAL_CANCEL_URL": "paypal_cancel_url",
}
_LISTS = {"web_origins", "trusted_proxies"}


S = TypeVar("S", bound=msgspec.Struct)


def read_environment(
    struct: type[S],
    environ: Mapping[str, str] | None,
    overrides: Mapping[str, Any],
    *,
    lists: frozenset[str] | set[str] = frozenset(),
    aliases: Mapping[str, str] | None = None,
) -> S:
    """Build a settings struct from CHATSVG_<FIELD> variables (plus aliases), comma lists split,
    overrides last; a malformed value is a SettingsError, never a traceback."""
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for field in struct.__struct_fields__:
        value = env.get(f"CHATSVG_{field.upper()}")
        if value is not None and value != "":
            raw[field] = value
    for name, field in (aliases or {}).items():
        if env.get(name):
            raw[field] = env[name]
    for field in lists:
        if isinstance(raw.get(field), str):
            raw[field] = tuple(p.strip() for p in str(raw[field]).split(",") if p.strip())
    raw.update(overrides)
    try:
        return msgspec.convert(raw, struct, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"Invalid setting: {exc}") from None


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    return read_environment(Settings, environ, overrides, lists=_LISTS, aliases=ALIASES).validate()


def unknown_variables(
    environ: Mapping[str, str], structs: Iterable[type[msgspec.Struct]]
) -> list[str]:
    """One message per `CHATSVG_*` variable that no field of `structs` reads (a typo, or a setting
    that no longer exists), naming the closest real setting; the test switches in NOT_SETTINGS
    are not reported."""
    known = {f"CHATSVG_{field.upper()}" for s in structs for field in s.__struct_fields__}
    messages = []
    for name in sorted(environ):
        if not name.startswith("CHATSVG_") or name in known or name in NOT_SETTINGS:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else ""
        messages.append(f"{name} is not a ChatSVG setting and is ignored{hint}")
    return messages
