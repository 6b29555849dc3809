"""The ASGI application: Litestar for HTTP, python-socketio beside it, one lifespan for both."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import socketio
from litestar import Litestar, Request
from litestar.config.response_cache import ResponseCacheConfig

from chatsvg import __version__
from chatsvg.adapters.queue.inprocess import InProcessJobQueue
from chatsvg.adapters.realtime.sockets import SocketIoRealtime
from chatsvg.adapters.sql.migrate import upgrade
from chatsvg.application.accounts.lifecycle import AccountService
from chatsvg.domain.errors import ValidationFailed
from chatsvg.entrypoints.accounts_wiring import install_accounts
from chatsvg.entrypoints.containers import Container, create_container
from chatsvg.entrypoints.http.controllers.auth import AuthController, csrf_token
from chatsvg.entrypoints.http.controllers.files import signed_file
from chatsvg.entrypoints.http.controllers.health import live, ready
from chatsvg.entrypoints.http.controllers.metrics import metrics
from chatsvg.entrypoints.http.controllers.notifications import NotificationController
from chatsvg.entrypoints.http.controllers.playground import playground_handlers
from chatsvg.entrypoints.http.controllers.support import contact
from chatsvg.entrypoints.http.controllers.svg import SvgController
from chatsvg.entrypoints.http.controllers.user import UserController
from chatsvg.entrypoints.http.cors import CorsMiddleware, EdgeRouter
from chatsvg.entrypoints.http.deps import Services
from chatsvg.entrypoints.http.openapi import openapi_config
from chatsvg.entrypoints.http.problems import handle_exception
from chatsvg.entrypoints.http.security import WebSecurity
from chatsvg.entrypoints.observability import ClusterFigures, RequestContext, process_exited
from chatsvg.entrypoints.settings import Settings

log = logging.getLogger("chatsvg")

MAX_BODY = 64 * 1024
JSON_TYPES = ("application/json",)


class UnsupportedMediaType(ValidationFailed):
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "Send the request body as application/json."


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Runs before every handler: the CSRF double-submit first (a cross-site request is refused as
    such, whatever its body), then the content type of bodies."""
    request.app.state.services.security.check_csrf(request)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        has_body = (
            request.headers.get("content-length", "0") not in ("0", "")
            or "transfer-encoding" in request.headers
        )
        if has_body:
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media not in JSON_TYPES and not media.endswith("+json"):
                raise UnsupportedMediaType()


def build_services(container: Container, settings: Settings) -> Services:
    return Services(
        settings=settings,
        security=WebSecurity.from_settings(settings),
        auth=container.auth_service(),
        generation=container.generation_service(),
        library=container.library(),
        notifications=container.notifications(),
        limiter=container.limiter(),
        storage=container.storage(),
        queue=container.queue(),
        clock=container.clock(),
        database=container.database(),
        uow=container.uow(),
        extras={
            "accounts": AccountService(
                uow=container.uow(),
                hasher=container.hasher(),
                storage=container.storage(),
                realtime=container.realtime(),
                clock=container.clock(),
                gallery=container.gallery(),
            ),
            "oauth_providers": [],
        },
    )


def create_app(settings: Settings, container: Container | None = None) -> Any:
    container = container or create_container(settings)
    services = build_services(container, settings)
    figures = ClusterFigures(
        redis_url=settings.redis_url, interval=settings.metrics_interval_seconds
    )
    services.extras["cluster_figures"] = figures  # read by GET /metrics
    realtime = container.realtime()
    if isinstance(realtime, SocketIoRealtime):
        # Sessions revoked here or in any other process leave this process's cache at once.
        realtime.on_revoked(services.auth.forget_sessions, on_gap=services.auth.forget_all_sessions)
    accounts = install_accounts(container, settings)
    services.extras.update(accounts.extras)
    services.extras["oauth_providers"] = accounts.oauth_providers
    background: list[asyncio.Task[None]] = []
    handlers: list[Any] = [
        csrf_token,
        AuthController,
        SvgController,
        UserController,
        NotificationController,
        signed_file,
        live,
        ready,
        metrics,
        contact,
    ]
    handlers += accounts.route_handlers
    if settings.playground_enabled:
        handlers += playground_handlers()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        database = container.database()
        if settings.local or database.url.startswith("sqlite"):
            settings.data_path.mkdir(parents=True, exist_ok=True)
            await upgrade(database.engine)
        ensure_bucket = getattr(
            getattr(services.storage, "inner", services.storage), "ensure_bucket", None
        )
        if ensure_bucket is not None and settings.s3_create_bucket:
            await ensure_bucket()
        queue = services.queue
        if settings.runs_embedded_worker and isinstance(queue, InProcessJobQueue):
            queue.start(container.processor().process)
            background.append(
                asyncio.create_task(_reap_forever(container, settings.reaper_interval_seconds))
            )
        for start in accounts.on_startup:
            await start()
        try:
            # Connect now, not during the first burst of requests.
            await database.warm(settings.db_warm_connections)
        except Exception:
            log.warning("could not open database connections at start-up", exc_info=True)
        background.append(asyncio.create_task(container.realtime().listen_for_revocations()))
        background.append(asyncio.create_task(figures.run(database, queue)))
        try:
            yield
        finally:
            for stop in accounts.on_shutdown:
                await stop()
            for task in background:
                task.cancel()
            if isinstance(queue, InProcessJobQueue):
                await queue.stop()
            await database.dispose()
            await figures.close()
            process_exited(os.getpid())  # several API processes: drop this one's live gauges

    api = Litestar(
        route_handlers=handlers,
        exception_handlers={Exception: handle_exception},
        before_request=check_request,
        request_max_body_size=MAX_BODY,
        lifespan=[lifespan],
        openapi_config=openapi_config(__version__),
        response_cache_config=ResponseCacheConfig(),
        debug=False,
        logging_config=None,  # logging is configured once by entrypoints.logs
    )
    api.state.services = services
    api.state.container = container
    sockets = socketio.ASGIApp(container.socket_server(), socketio_path="socket.io")
    return RequestContext(CorsMiddleware(EdgeRouter(api, sockets), settings.all_web_origins))  # type: ignore[arg-type]


async def _reap_forever(container: Container, interval: float) -> None:
    reaper = container.reaper()
    while True:
        await asyncio.sleep(interval)
        try:
            handed_back = await reaper.sweep()
            if handed_back:
                log.info("reaper handed back %d job(s)", handed_back)
        except Exception:
            log.exception("reaper sweep failed")


def app_from_environment() -> Any:
    """The app built from the environment: what each process of `chatsvg serve` runs when
    CHATSVG_API_WORKERS > 1 (uvicorn imports it by name in every worker process)."""
    from chatsvg.entrypoints.logs import configure_logging
    from chatsvg.entrypoints.settings import load_settings

    settings = load_settings()
    configure_logging(settings)
    return create_app(settings)
