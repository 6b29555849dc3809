"""API keys and the public /v1 API: key management, the per-plan rates, the /v1 use cases."""

from __future__ import annotations

import hashlib

from dependency_injector import containers, providers

from chatsvg.adapters.window_limits import LimitsWindowLimiter
from chatsvg.application.keys.plans import CataloguePlanRules
from chatsvg.application.keys.public_api import PublicApi
from chatsvg.application.keys.service import ApiKeyService
from chatsvg.entrypoints.settings import Settings


def key_secret(settings: Settings) -> bytes:
    """The HMAC key API keys are stored under (derived from CHATSVG_SECRET_KEY, so every process
    of a deployment finds the same keys, and no other use of the secret shares it)."""
    return hashlib.sha256(b"chatsvg-api-keys:" + settings.secret_key.encode()).digest()


def make_window_limiter(settings: Settings) -> LimitsWindowLimiter:
    if settings.redis_url:
        return LimitsWindowLimiter.on_redis(settings.redis_url)
    return LimitsWindowLimiter.in_memory()


class Keys(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    infra = providers.DependenciesContainer()
    generation = providers.DependenciesContainer()
    gallery = providers.DependenciesContainer()

    secret = providers.Singleton(key_secret, settings)
    plans = providers.Singleton(CataloguePlanRules, infra.plans)
    limiter = providers.Singleton(make_window_limiter, settings)
    service = providers.Singleton(
        ApiKeyService, uow=infra.uow, clock=infra.clock, secret=secret, plans=plans
    )
    public_api = providers.Singleton(
        PublicApi,
        uow=infra.uow,
        clock=infra.clock,
        secret=secret,
        plans=plans,
        limiter=limiter,
        generation=generation.submission,
        library=gallery.library,
    )
