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
from litestar.di import Provide

from chatsvg import __version__
from chatsvg.adapters.realtime.sockets import SocketIoRealtime
from chatsvg.adapters.sql.migrate import upgrade
from chatsvg.domain.errors import ValidationFailed
from chatsvg.entrypoints.containers import Container, create_container
from chatsvg.entrypoints.http import dependency_batches
from chatsvg.entrypoints.http.controllers.accounts import AccountsController
from chatsvg.entrypoints.http.controllers.admin import AdminController
from chatsvg.entrypoints.http.controllers.auth import AuthController, csrf_token
from chatsvg.entrypoints.http.controllers.authorization import (
    AuthorizationServerController,
    GrantsController,
)
from chatsvg.entrypoints.http.controllers.billing import PayPalController
from chatsvg.entrypoints.http.controllers.consent import ConsentController
from chatsvg.entrypoints.http.controllers.files import signed_file
from chatsvg.entrypoints.http.controllers.health import live, ready
from chatsvg.entrypoints.http.controllers.keys import ApiKeysController
from chatsvg.entrypoints.http.controllers.metrics import metrics
from chatsvg.entrypoints.http.controllers.notifications import NotificationController
from chatsvg.entrypoints.http.controllers.plans import list_plans
from chatsvg.entrypoints.http.controllers.playground import playground_handlers
from chatsvg.entrypoints.http.controllers.public_v1 import PublicApiController
from chatsvg.entrypoints.http.controllers.support import contact
from chatsvg.entrypoints.http.controllers.svg import SvgController
from chatsvg.entrypoints.http.controllers.user import UserController
from chatsvg.entrypoints.http.cors import CorsMiddleware, EdgeRouter
from chatsvg.entrypoints.http.mcp import mcp_mount
from chatsvg.entrypoints.http.open_cors import MCP_CLIENTS, PUBLIC_API, OpenCors
from chatsvg.entrypoints.http.openapi import openapi_config
from chatsvg.entrypoints.http.problems import handle_exception
from chatsvg.entrypoints.http.security import WebSecurity
from chatsvg.entrypoints.observability import RequestContext, process_exited
from chatsvg.entrypoints.settings import Settings
from chatsvg.entrypoints.tasks import start_api_tasks

log = logging.getLogger("chatsvg")

MAX_BODY = 64 * 1024
JSON_TYPES = ("application/json",)


class UnsupportedMediaType(ValidationFailed):
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "Send the request body as application/json."


def request_check(security: WebSecurity) -> Any:
    async def check_request(request: Request[Any, Any, Any]) -> None:
        """Runs before every handler: the CSRF double-submit first (a cross-site request is refused
        as such, whatever its body), then the content type of bodies."""
        security.check_csrf(request)
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            has_body = (
                request.headers.get("content-length", "0") not in ("0", "")
                or "transfer-encoding" in request.headers
            )
            if has_body:
                media = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if media not in JSON_TYPES and not media.endswith("+json"):
                    raise UnsupportedMediaType()

    return check_request


def handler_dependencies(container: Container) -> dict[str, Provide]:
    """What handlers may name as parameters, each taken from the container once, as the app is
    built (deps.py says how handlers declare them)."""
    infra = container.infrastructure
    values: dict[str, Any] = {
        "settings": container.settings(),
        "security": container.web.security(),
        "clock": infra.clock(),
        "limiter": infra.limiter(),
        "storage": infra.storage(),
        "queue": infra.queue(),
        "database": infra.database(),
        "auth": container.accounts.auth(),
        "accounts": container.accounts.lifecycle(),
        "recovery": container.accounts.recovery(),
        "oauth": container.accounts.oauth(),
        "oauth_web": container.web.oauth_web(),
        "generation": container.generation.submission(),
        "library": container.gallery.library(),
        "notifications": container.notifications.service(),
        "support": container.support.service(),
        "signed_files": container.web.signed_files(),
        "figures": container.figures(),
        "admin_access": container.admin.access(),
        "admin_metrics": container.admin.metrics(),
        "api_keys": container.keys.service(),
        "public_api": container.keys.public_api(),
        "authorization": container.authorization.server(),
        "plan_book": container.billing.plan_book(),
        "billing": container.billing.service(),
    }
    return {
        name: Provide(_constant(value), use_cache=True, sync_to_thread=False)
        for name, value in values.items()
    }


def _constant(value: Any) -> Any:
    def provide() -> Any:
        return value

    return provide


def create_app(settings: Settings, container: Container | None = None) -> Any:
    container = container or create_container(settings)
    dependencies = handler_dependencies(container)
    auth = container.accounts.auth()
    realtime = container.infrastructure.realtime()
    if isinstance(realtime, SocketIoRealtime):
        # Sessions revoked here or in any other process leave this process's cache at once.
        realtime.on_revoked(auth.forget_sessions, on_gap=auth.forget_all_sessions)
    figures = container.figures()
    storage = container.infrastructure.storage()
    # The OAuth providers' HTTP clients.
    oauth = container.accounts.oauth()
    paypal = container.billing.paypal()  # None while billing is off
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
        AccountsController,
        ApiKeysController,
        PublicApiController,
        AuthorizationServerController,
        ConsentController,
        GrantsController,
        mcp_mount(container.authorization.mcp()),
        list_plans,
        PayPalController,
        AdminController,
    ]
    if settings.playground_enabled:
        handlers += playground_handlers()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        database = container.infrastructure.database()
        if settings.local or database.url.startswith("sqlite"):
            settings.data_path.mkdir(parents=True, exist_ok=True)
            await upgrade(database.engine)
        ensure_bucket = getattr(getattr(storage, "inner", storage), "ensure_bucket", None)
        if ensure_bucket is not None and settings.s3_create_bucket:
            await ensure_bucket()
        try:
            # Connect now, not during the first burst of requests.
            await database.warm(settings.db_warm_connections)
        except Exception:
            log.warning("could not open database connections at start-up", exc_info=True)
        background.append(asyncio.create_task(realtime.listen_for_revocations()))
        # The in-process task queue (send_mail; every task in local mode) and the sweeps.
        tasks = start_api_tasks(container)
        try:
            yield
        finally:
            await tasks.stop()
            await oauth.aclose()
            if paypal is not None:
                await paypal.aclose()
            for task in background:
                task.cancel()
            await database.dispose()
            await figures.close()
            process_exited(os.getpid())  # several API processes: drop this one's live gauges

    dependency_batches.install()
    api = Litestar(
        route_handlers=handlers,
        exception_handlers={Exception: handle_exception},
        before_request=request_check(container.web.security()),
        dependencies=dependencies,
        request_max_body_size=MAX_BODY,
        lifespan=[lifespan, container.authorization.mcp().running],
        openapi_config=openapi_config(__version__),
        response_cache_config=ResponseCacheConfig(),
        debug=False,
        logging_config=None,  # logging is configured once by entrypoints.logs
    )
    sockets = socketio.ASGIApp(container.web.socket_server(), socketio_path="socket.io")
    edge = EdgeRouter(api, sockets)  # type: ignore[arg-type]
    cors = OpenCors(CorsMiddleware(edge, settings.all_web_origins), edge, PUBLIC_API)
    # The MCP endpoint and the OAuth endpoints its clients call: CORS `*`, no credentials.
    outer = OpenCors(cors, edge, MCP_CLIENTS)
    return RequestContext(outer)


def app_from_environment() -> Any:
    """The app built from the environment: what each process of `chatsvg serve` runs when
    CHATSVG_API_WORKERS > 1 (uvicorn imports it by name in every worker process)."""
    from chatsvg.entrypoints.logs import configure_logging
    from chatsvg.entrypoints.settings import load_settings

    settings = load_settings()
    configure_logging(settings)
    return create_app(settings)
