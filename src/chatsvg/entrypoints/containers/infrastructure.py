"""The adapters every feature shares: clock, database, rate limits, storage, queue, the public
gallery's cache, and realtime delivery."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from chatsvg.adapters.clock import SystemClock
from chatsvg.adapters.gallery.cache import InProcessGalleryCache, RedisGalleryCache
from chatsvg.adapters.queue.inprocess import InProcessTaskQueue
from chatsvg.adapters.rate_limits import LimitsRateLimiter, RatePolicy
from chatsvg.adapters.realtime.sockets import (
    CHANNEL,
    NullRealtime,
    OrderedJobUpdates,
    PipelinedRedisManager,
    SocketIoRealtime,
)
from chatsvg.adapters.sql.engine import SqlDatabase
from chatsvg.adapters.storage.local import LocalDiskStorage
from chatsvg.adapters.storage.signed_urls import ApiServedStorage
from chatsvg.entrypoints.plan_settings import build_plan_catalogue
from chatsvg.entrypoints.settings import Settings, parse_rate

if TYPE_CHECKING:  # imported where used: local mode never loads Dramatiq
    from chatsvg.adapters.queue.dramatiq import DramatiqTaskQueue


def rate_policies(settings: Settings) -> dict[str, RatePolicy]:
    def policy(text: str, fail_open: bool = True) -> RatePolicy:
        limit, window = parse_rate(text)
        return RatePolicy(limit, window, fail_open)

    policies = {
        "login": policy(settings.rate_login, fail_open=False),
        "register": policy(settings.rate_register),
        "forgot-password": policy(settings.rate_forgot_password, fail_open=False),
        "admin-access": policy(settings.rate_admin_access, fail_open=False),
        "generate": policy(settings.rate_generate),
        "download": policy(settings.rate_download),
        "support": policy(settings.rate_support, fail_open=False),
    }
    if settings.daily_quota:
        policies["daily-quota"] = RatePolicy(settings.daily_quota, 86_400 + 3600, fail_open=True)
    return policies


def make_limiter(settings: Settings) -> LimitsRateLimiter:
    if settings.redis_url:
        return LimitsRateLimiter.on_redis(settings.redis_url, rate_policies(settings))
    return LimitsRateLimiter.in_memory(rate_policies(settings))


def make_storage(settings: Settings, clock: SystemClock) -> Any:
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


def make_queue(settings: Settings, realtime: Any) -> Any:
    """Where the worker tasks (entrypoints/tasks.py) go: Dramatiq, or this process's own queue.
    On Dramatiq the queue carries this process's realtime pushes ahead of each message it sends
    (one Redis round trip for a prompt's QUEUED push and its enqueue)."""
    if settings.effective_queue == "dramatiq":
        from chatsvg.adapters.queue.dramatiq import DramatiqTaskQueue
        from chatsvg.entrypoints.tasks import WORKER_TASKS

        assert settings.redis_url, "the Dramatiq queue needs REDIS_URL"
        queue = DramatiqTaskQueue(settings.redis_url, tasks=WORKER_TASKS)
        carry_realtime_pushes(queue, realtime)
        return queue
    return InProcessTaskQueue(concurrency=settings.worker_concurrency)


def carry_realtime_pushes(queue: DramatiqTaskQueue, realtime: Any) -> None:
    """When the realtime pushes go through Redis too, the queue publishes those in line ahead of
    each message it sends, in one pipeline (adapters/queue/dramatiq.py, `carry_pushes`)."""
    manager = getattr(realtime, "manager", None)
    if isinstance(manager, PipelinedRedisManager):
        queue.carry_pushes(manager)


def make_local_tasks(queue: Any) -> InProcessTaskQueue:
    """The tasks this process runs itself (`send_mail` in an API process): on the queue above
    when that is in-process (local mode), else on a small one of their own."""
    if isinstance(queue, InProcessTaskQueue):
        return queue
    return InProcessTaskQueue(concurrency=4)


def make_gallery_cache(settings: Settings) -> Any:
    if settings.redis_url:
        return RedisGalleryCache(settings.redis_url)
    return InProcessGalleryCache()


def make_socket_manager(settings: Settings) -> OrderedJobUpdates:
    """The client manager of an API process: its Socket.IO server is built over it
    (entrypoints/realtime.py); with Redis it also carries events to and from the other processes."""
    if settings.redis_url:
        return PipelinedRedisManager(settings.redis_url, channel=CHANNEL)
    return OrderedJobUpdates()


def make_worker_realtime(settings: Settings) -> Any:
    """A worker has no sockets of its own: it publishes through Redis to the API processes'
    sockets, or nowhere without Redis."""
    if settings.redis_url:
        return SocketIoRealtime(
            PipelinedRedisManager(settings.redis_url, channel=CHANNEL, write_only=True),
            redis_url=settings.redis_url,
        )
    return NullRealtime()


class Infrastructure(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    # "api" (serves sockets) or "worker" (worker and CLI processes: publishes only).
    process = providers.Dependency(instance_of=str)

    clock = providers.Singleton(SystemClock)
    database = providers.Singleton(
        SqlDatabase,
        url=settings.provided.effective_database_url,
        pool_size=settings.provided.db_pool_size,
        pool_timeout=settings.provided.db_pool_timeout_seconds,
        ping_after_idle=settings.provided.db_ping_idle_seconds,
    )
    uow = database.provided.uow
    limiter = providers.Singleton(make_limiter, settings)
    storage = providers.Singleton(make_storage, settings, clock)
    gallery_cache = providers.Singleton(make_gallery_cache, settings)
    # The plans and their limits (domain/credits/plans.py); see docs/billing.md.
    plans = providers.Singleton(build_plan_catalogue, settings)

    socket_manager = providers.Singleton(make_socket_manager, settings)
    realtime = providers.Selector(
        process,
        api=providers.Singleton(
            SocketIoRealtime, manager=socket_manager, redis_url=settings.provided.redis_url
        ),
        worker=providers.Singleton(make_worker_realtime, settings),
    )
    queue = providers.Singleton(make_queue, settings, realtime)
    local_tasks = providers.Singleton(make_local_tasks, queue)
