"""The composition root: what is built from what. Nothing outside `entrypoints` knows about it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from dependency_injector import containers, providers

from chatsvg.adapters.accounts.passwords import Argon2PasswordHasher
from chatsvg.adapters.accounts.tokens import JwtAccessTokens
from chatsvg.adapters.clock import SystemClock
from chatsvg.adapters.gallery.cache import InProcessGalleryCache, RedisGalleryCache
from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from chatsvg.adapters.offline_generator import OfflineSvgGenerator
from chatsvg.adapters.queue.inprocess import InProcessJobQueue
from chatsvg.adapters.rate_limits import LimitsRateLimiter, RatePolicy
from chatsvg.adapters.realtime.sockets import (
    CHANNEL,
    NullRealtime,
    PipelinedRedisManager,
    SocketIoRealtime,
    create_socket_server,
)
from chatsvg.adapters.sql.engine import SqlDatabase
from chatsvg.adapters.storage.local import LocalDiskStorage
from chatsvg.adapters.storage.signed_urls import ApiServedStorage
from chatsvg.application.accounts.auth import AuthService
from chatsvg.application.accounts.sessions import LiveSessionCache
from chatsvg.application.gallery.library import GenerationLibrary
from chatsvg.application.generation.circuit import ProviderCircuit
from chatsvg.application.generation.processor import JobProcessor
from chatsvg.application.generation.reaper import JobReaper
from chatsvg.application.generation.retry import RetryPolicy
from chatsvg.application.generation.submission import GenerationService
from chatsvg.application.notifications.service import NotificationService
from chatsvg.application.ports import AccessClaims
from chatsvg.domain.generation.jobs import Catalogue, ModelSpec
from chatsvg.entrypoints.settings import REAL_MODELS, Settings, parse_rate


def build_catalogue(settings: Settings) -> Catalogue:
    """The models clients may name. Without an OpenAI key every name is served by the offline model,
    and jobs record `offline`, so nobody is told a real model drew an offline picture."""
    offline = ModelSpec("offline", "offline", 1)
    overrides: dict[str, ModelSpec] = {}
    for item in filter(None, (p.strip() for p in settings.model_map.split(","))):
        name, _, rest = item.partition("=")
        provider_model, _, cost = rest.partition(":")
        overrides[name.strip()] = ModelSpec(
            name.strip(), provider_model.strip() or name.strip(), int(cost or 1)
        )
    if settings.openai_api_key:
        models = (
            *tuple(overrides.get(name, ModelSpec(name, name, 1)) for name in REAL_MODELS),
            offline,
        )
        default = settings.default_model or "gpt-5-mini-2025-08-07"
        return Catalogue(models=models, default_model=default)
    return Catalogue(
        models=(offline,),
        default_model="offline",
        aliases={name: "offline" for name in REAL_MODELS},
    )


def rate_policies(settings: Settings) -> dict[str, RatePolicy]:
    def policy(text: str, fail_open: bool = True) -> RatePolicy:
        limit, window = parse_rate(text)
        return RatePolicy(limit, window, fail_open)

    policies = {
        "login": policy(settings.rate_login, fail_open=False),
        "register": policy(settings.rate_register),
        "forgot-password": policy(settings.rate_forgot_password, fail_open=False),
        "generate": policy(settings.rate_generate),
        "download": policy(settings.rate_download),
        "support": policy(settings.rate_support, fail_open=False),
    }
    if settings.daily_quota:
        policies["daily-quota"] = RatePolicy(settings.daily_quota, 86_400 + 3600, fail_open=True)
    return policies


def _make_limiter(settings: Settings) -> LimitsRateLimiter:
    if settings.redis_url:
        return LimitsRateLimiter.on_redis(settings.redis_url, rate_policies(settings))
    return LimitsRateLimiter.in_memory(rate_policies(settings))


def _make_storage(settings: Settings, clock: SystemClock) -> Any:
    inner: Any
    if settings.s3_bucket:
        from chatsvg.adapters.storage.s3 import S3ObjectStorage

        inner = S3ObjectStorage(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            public_endpoint_url=settings.s3_public_endpoint_url,
            web_origins=settings.all_web_origins,
            create_bucket=settings.s3_create_bucket,
            max_pool_connections=settings.s3_max_connections,
        )
        if settings.s3_direct_urls:
            return inner
    else:
        inner = LocalDiskStorage(settings.data_path / "files")
    return ApiServedStorage(
        inner, secret=settings.secret_key, public_base_url=settings.public_url, clock=clock
    )


def _make_generator(settings: Settings) -> Any:
    from chatsvg.entrypoints.observability import InstrumentedGenerator

    if settings.openai_api_key:
        from chatsvg.adapters.generation.openai_generator import OpenAiSvgGenerator

        return InstrumentedGenerator(
            OpenAiSvgGenerator(
                settings.openai_api_key,
                base_url=settings.openai_base_url,
                timeout=settings.openai_timeout_seconds,
                http_backend=settings.openai_http_backend,
                max_connections=max(settings.worker_max_in_flight, settings.worker_concurrency),
            )
        )
    return InstrumentedGenerator(OfflineSvgGenerator(delay_seconds=settings.offline_delay_seconds))


def _make_queue(settings: Settings) -> Any:
    if settings.effective_queue == "dramatiq":
        from chatsvg.adapters.queue.dramatiq import DramatiqJobQueue

        assert settings.redis_url, "the Dramatiq queue needs REDIS_URL"
        return DramatiqJobQueue(settings.redis_url)
    return InProcessJobQueue(concurrency=settings.worker_concurrency)


def _make_gallery(settings: Settings) -> Any:
    if settings.redis_url:
        return RedisGalleryCache(settings.redis_url)
    return InProcessGalleryCache()


def _lazy_authenticate(
    auth: Callable[[], AuthService],
) -> Callable[[str | None], Awaitable[AccessClaims]]:
    # The socket server needs the auth service and the auth service needs the realtime publisher,
    # which needs the socket server: resolve the auth service only when a socket connects.
    async def authenticate(token: str | None) -> AccessClaims:
        return await auth().authenticate(token)

    return authenticate


def _lazy_replay(
    generation: Callable[[], GenerationService],
) -> Callable[[str], Awaitable[list[dict[str, Any]]]]:
    # The same cycle as authentication: the generation service publishes through the socket
    # server, which replays the generation service's recent updates to a socket as it connects.
    async def replay(user_id: str) -> list[dict[str, Any]]:
        return await generation().live_updates(user_id)

    return replay


def _make_session_cache(settings: Settings) -> LiveSessionCache | None:
    if settings.session_cache_seconds <= 0:
        return None
    return LiveSessionCache(settings.session_cache_seconds)


def _own_origins(settings: Settings) -> list[str]:
    return [settings.public_url.rstrip("/")]


def _make_worker_realtime(settings: Settings) -> Any:
    if settings.redis_url:
        return SocketIoRealtime(
            manager=PipelinedRedisManager(settings.redis_url, channel=CHANNEL, write_only=True),
            redis_url=settings.redis_url,
        )
    return NullRealtime()


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    database = providers.Singleton(
        SqlDatabase,
        url=settings.provided.effective_database_url,
        pool_size=settings.provided.db_pool_size,
        pool_timeout=settings.provided.db_pool_timeout_seconds,
        ping_after_idle=settings.provided.db_ping_idle_seconds,
    )
    uow = database.provided.uow
    hasher = providers.Singleton(
        Argon2PasswordHasher,
        time_cost=settings.provided.argon2_time_cost,
        memory_cost=settings.provided.argon2_memory_kib,
    )
    access_tokens = providers.Singleton(
        JwtAccessTokens,
        secret=settings.provided.secret_key,
        clock=clock,
        lifetime=providers.Factory(timedelta, seconds=settings.provided.access_token_seconds),
    )
    limiter = providers.Singleton(_make_limiter, settings)
    storage = providers.Singleton(_make_storage, settings, clock)
    generator = providers.Singleton(_make_generator, settings)
    sanitizer = providers.Singleton(SvgSanitizer)
    queue = providers.Singleton(_make_queue, settings)
    catalogue = providers.Singleton(build_catalogue, settings)

    # `realtime` is added in create_container: the socket server it needs authenticates through this service.
    auth_service = providers.Singleton(
        AuthService,
        uow=uow,
        hasher=hasher,
        tokens=access_tokens,
        clock=clock,
        limiter=limiter,
        start_credits=settings.provided.start_credits,
        email_auth_enabled=settings.provided.email_auth_enabled,
        session_cache=providers.Singleton(_make_session_cache, settings),
    )
    socket_server = providers.Singleton(
        create_socket_server,
        authenticate=providers.Callable(_lazy_authenticate, auth_service.provider),
        web_origins=settings.provided.all_web_origins,
        own_origins=providers.Callable(_own_origins, settings),
        redis_url=settings.provided.redis_url,
    )
    realtime = providers.Singleton(
        SocketIoRealtime, server=socket_server, redis_url=settings.provided.redis_url
    )

    generation_service = providers.Singleton(
        GenerationService,
        uow=uow,
        queue=queue,
        storage=storage,
        realtime=realtime,
        clock=clock,
        catalogue=catalogue,
        limiter=limiter,
        daily_quota=settings.provided.daily_quota,
    )
    gallery = providers.Singleton(_make_gallery, settings)
    library = providers.Singleton(
        GenerationLibrary, uow=uow, storage=storage, clock=clock, gallery=gallery
    )
    notifications = providers.Singleton(NotificationService, uow=uow, clock=clock)
    retry_policy = providers.Singleton(
        RetryPolicy,
        max_attempts=settings.provided.max_attempts,
        backoff_base=settings.provided.backoff_base_seconds,
        backoff_cap=settings.provided.backoff_cap_seconds,
        lease_seconds=settings.provided.lease_seconds,
        stale_queued_seconds=settings.provided.stale_queued_seconds,
    )
    processor = providers.Singleton(
        JobProcessor,
        uow=uow,
        generator=generator,
        sanitizer=sanitizer,
        storage=storage,
        realtime=realtime,
        clock=clock,
        catalogue=catalogue,
        policy=retry_policy,
        low_credit_threshold=settings.provided.low_credit_threshold,
        gallery=gallery,
        claim_concurrency=settings.provided.worker_claim_concurrency,
        claim_batch=settings.provided.worker_claim_batch,
        finish_concurrency=settings.provided.worker_finish_concurrency,
        finish_batch=settings.provided.worker_finish_batch,
        circuit=providers.Singleton(
            ProviderCircuit,
            clock,
            threshold=settings.provided.circuit_threshold,
            cooldown=settings.provided.circuit_cooldown_seconds,
        ),
    )
    reaper = providers.Singleton(
        JobReaper, uow=uow, queue=queue, realtime=realtime, clock=clock, processor=processor
    )


def create_container(settings: Settings, *, worker_process: bool = False) -> Container:
    container = Container(settings=settings)
    container.auth_service.add_kwargs(realtime=container.realtime)
    container.socket_server.add_kwargs(
        replay=providers.Callable(_lazy_replay, container.generation_service.provider)
    )
    if worker_process:
        # A worker has no sockets of its own: it publishes through Redis to the API processes' sockets.
        container.realtime.override(providers.Singleton(_make_worker_realtime, settings))
    return container
