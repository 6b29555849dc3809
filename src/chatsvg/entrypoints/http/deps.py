"""What handlers reach for: the services, built once per app and kept in app state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request

from chatsvg.application.accounts.auth import AuthService
from chatsvg.application.gallery.library import GenerationLibrary
from chatsvg.application.generation.submission import GenerationService
from chatsvg.application.notifications.service import NotificationService
from chatsvg.application.ports import AccessClaims, Clock, JobQueue, ObjectStorage, RateLimiter
from chatsvg.entrypoints.http.security import WebSecurity, access_token
from chatsvg.entrypoints.settings import Settings


@dataclass
class Services:
    settings: Settings
    security: WebSecurity
    auth: AuthService
    generation: GenerationService
    library: GenerationLibrary
    notifications: NotificationService
    limiter: RateLimiter
    storage: ObjectStorage
    queue: JobQueue
    clock: Clock
    database: Any
    uow: Any
    extras: dict[str, Any]


def services(request: Request[Any, Any, Any]) -> Services:
    found: Services = request.app.state.services
    return found


async def provide_claims(request: Request[Any, Any, Any]) -> AccessClaims:
    claims = await services(request).auth.authenticate(access_token(request))
    request.state.claims = claims
    return claims


async def provide_optional_claims(request: Request[Any, Any, Any]) -> AccessClaims | None:
    token = access_token(request)
    if not token:
        return None
    try:
        return await services(request).auth.authenticate(token)
    except Exception:
        return None
