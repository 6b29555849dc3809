"""Plans and billing: the plan catalogue's readers and (when PayPal is configured) subscriptions."""

from __future__ import annotations

from dependency_injector import containers, providers

from chatsvg.application.plans import PlanBook
from chatsvg.entrypoints.settings import Settings


class Billing(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    infra = providers.DependenciesContainer()

    plan_book = providers.Singleton(PlanBook, infra.plans, infra.uow)
