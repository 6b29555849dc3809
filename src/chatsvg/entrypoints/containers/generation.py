"""Generation: the model catalogue, the model client, submission, processing and the reaper."""

from __future__ import annotations

from typing import Any

from dependency_injector import containers, providers

from chatsvg.adapters.generation.svg_inspector import SvgInspector
from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from chatsvg.adapters.offline_generator import OfflineSvgGenerator
from chatsvg.application.generation.circuit import ProviderCircuit
from chatsvg.application.generation.processor import JobProcessor
from chatsvg.application.generation.reaper import JobReaper
from chatsvg.application.generation.retry import RetryPolicy
from chatsvg.application.generation.submission import GenerationService
from chatsvg.domain.generation.requests import Catalogue, ModelSpec
from chatsvg.domain.generation.usage import DEFAULT_PRICES, PriceTable
from chatsvg.entrypoints.settings import REAL_MODELS, Settings, SettingsError


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


def build_prices(settings: Settings) -> PriceTable:
    """The built-in list prices, with `CHATSVG_MODEL_PRICES` ("model=input/output,...", USD per
    million tokens) added over them."""
    prices = dict(DEFAULT_PRICES)
    for item in filter(None, (p.strip() for p in settings.model_prices.split(","))):
        name, _, rest = item.partition("=")
        given, _, taken = rest.partition("/")
        try:
            prices[name.strip()] = (float(given), float(taken))
        except ValueError:
            raise SettingsError(
                f"CHATSVG_MODEL_PRICES entries are model=input/output (USD per million tokens); "
                f"got {item!r}."
            ) from None
    return PriceTable.of(prices)


def make_generator(settings: Settings) -> Any:
    from chatsvg.entrypoints.observability import InstrumentedGenerator

    if settings.openai_api_key:
        from chatsvg.adapters.generation.openai_generator import OpenAiSvgGenerator
        from chatsvg.adapters.generation.routing import OfflineRouting

        return InstrumentedGenerator(
            OfflineRouting(  # the `offline` model (API test keys) stays offline
                OpenAiSvgGenerator(
                    settings.openai_api_key,
                    base_url=settings.openai_base_url,
                    timeout=settings.openai_timeout_seconds,
                    http_backend=settings.openai_http_backend,
                    max_connections=max(settings.worker_max_in_flight, settings.worker_concurrency),
                    structured_output=settings.openai_structured_output,
                    stream=settings.openai_stream,
                ),
                OfflineSvgGenerator(delay_seconds=settings.offline_delay_seconds),
            )
        )
    return InstrumentedGenerator(OfflineSvgGenerator(delay_seconds=settings.offline_delay_seconds))


class Generation(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    infra = providers.DependenciesContainer()

    catalogue = providers.Singleton(build_catalogue, settings)
    prices = providers.Singleton(build_prices, settings)
    generator = providers.Singleton(make_generator, settings)
    sanitizer = providers.Singleton(SvgSanitizer)
    inspector = providers.Singleton(SvgInspector)
    retry_policy = providers.Singleton(
        RetryPolicy,
        max_attempts=settings.provided.max_attempts,
        backoff_base=settings.provided.backoff_base_seconds,
        backoff_cap=settings.provided.backoff_cap_seconds,
        lease_seconds=settings.provided.lease_seconds,
        stale_queued_seconds=settings.provided.stale_queued_seconds,
    )
    circuit = providers.Singleton(
        ProviderCircuit,
        infra.clock,
        threshold=settings.provided.circuit_threshold,
        cooldown=settings.provided.circuit_cooldown_seconds,
    )

    submission = providers.Singleton(
        GenerationService,
        uow=infra.uow,
        queue=infra.queue,
        storage=infra.storage,
        realtime=infra.realtime,
        clock=infra.clock,
        catalogue=catalogue,
        limiter=infra.limiter,
        daily_quota=settings.provided.daily_quota,
        plans=infra.plans,
    )
    processor = providers.Singleton(
        JobProcessor,
        uow=infra.uow,
        generator=generator,
        sanitizer=sanitizer,
        storage=infra.storage,
        realtime=infra.realtime,
        clock=infra.clock,
        catalogue=catalogue,
        policy=retry_policy,
        low_credit_threshold=settings.provided.low_credit_threshold,
        gallery=infra.gallery_cache,
        claim_concurrency=settings.provided.worker_claim_concurrency,
        claim_batch=settings.provided.worker_claim_batch,
        finish_concurrency=settings.provided.worker_finish_concurrency,
        finish_batch=settings.provided.worker_finish_batch,
        circuit=circuit,
        prices=prices,
        inspector=inspector,
    )
    reaper = providers.Singleton(
        JobReaper,
        uow=infra.uow,
        queue=infra.queue,
        realtime=infra.realtime,
        clock=infra.clock,
        processor=processor,
    )
