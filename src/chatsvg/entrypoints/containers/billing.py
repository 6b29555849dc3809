"""Plans and billing: the plan catalogue's readers and PayPal subscriptions (billing is on when
PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET are set; docs/billing.md)."""

from __future__ import annotations

from dependency_injector import containers, providers

from chatsvg.adapters.billing.paypal import PayPalClient
from chatsvg.application.billing.admin import BillingAdmin
from chatsvg.application.billing.events import BillingEventHandler
from chatsvg.application.billing.service import BillingConfig, BillingService
from chatsvg.application.billing.sweep import BillingSweep
from chatsvg.application.plans import PlanBook
from chatsvg.entrypoints.settings import Settings


def billing_enabled(settings: Settings) -> bool:
    return bool(settings.paypal_client_id and settings.paypal_client_secret)


def billing_config(settings: Settings) -> BillingConfig:
    origins = settings.all_web_origins
    web_app = (origins[0] if origins else settings.public_url).rstrip("/")
    return BillingConfig(
        enabled=billing_enabled(settings),
        supporter_plan_id=settings.paypal_supporter_plan_id,
        return_url=settings.paypal_return_url or f"{web_app}/billing/paypal/success",
        cancel_url=settings.paypal_cancel_url or f"{web_app}/billing/paypal/cancel",
    )


def make_paypal(settings: Settings) -> PayPalClient | None:
    if not billing_enabled(settings):
        return None
    return PayPalClient(
        base_url=settings.paypal_base_url,
        client_id=settings.paypal_client_id or "",
        client_secret=settings.paypal_client_secret or "",
        webhook_id=settings.paypal_webhook_id,
        timeout=settings.paypal_timeout_seconds,
    )


class Billing(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    infra = providers.DependenciesContainer()

    plan_book = providers.Singleton(PlanBook, infra.plans, infra.uow)
    enabled = providers.Callable(billing_enabled, settings)
    config = providers.Singleton(billing_config, settings)
    paypal = providers.Singleton(make_paypal, settings)
    service = providers.Singleton(
        BillingService,
        uow=infra.uow,
        provider=paypal,
        queue=infra.queue,
        clock=infra.clock,
        config=config,
    )
    events = providers.Singleton(
        BillingEventHandler,
        uow=infra.uow,
        provider=paypal,
        clock=infra.clock,
        plans=infra.plans,
        plan_id=config.provided.supporter_plan_id,
    )
    sweep = providers.Singleton(
        BillingSweep,
        uow=infra.uow,
        provider=paypal,
        handler=events,
        queue=infra.queue,
        clock=infra.clock,
    )
    admin = providers.Singleton(BillingAdmin, uow=infra.uow, handler=events)
