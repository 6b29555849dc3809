"""Plans: the catalogue from settings, GET /api/plans, and the per-window generation quota
(on memory, SQLite and Postgres)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from chatsvg.application.ports import UnitOfWorkFactory
from chatsvg.domain.credits.plans import PlanName, QuotaExceeded
from chatsvg.domain.generation.jobs import JobStatus
from chatsvg.entrypoints.plan_settings import build_plan_catalogue
from chatsvg.entrypoints.settings import SettingsError, load_settings
from tests.behaviour.test_generation import command
from tests.conftest import Stack, build_stack, with_plan_quota
from tests.e2e.conftest import local_settings
from tests.support.live import start_server


def test_the_catalogue_has_the_contract_s_defaults_and_follows_settings() -> None:
    plans = build_plan_catalogue(load_settings({}, start_credits=7))
    free, supporter = plans.free.limits, plans.supporter.limits
    assert (plans.free.price, free.starting_credits, free.credit_refill_amount) == (0, 7, 0)
    assert (free.generations_per_month, free.max_api_keys) == (30, 1)
    assert plans.supporter.price == 5
    assert (supporter.starting_credits, supporter.credit_refill_amount) == (300, 300)
    assert (supporter.credit_refill_days, supporter.generations_per_month) == (30, 300)
    assert supporter.max_api_keys == 5
    assert plans.quotas is True

    custom = build_plan_catalogue(
        load_settings(
            {
                "CHATSVG_PLAN_QUOTAS": "false",
                "CHATSVG_PLAN_SUPPORTER_GENERATIONS": "-1",
                "CHATSVG_PLAN_FREE_RATE_LIMITS": "1/unlimited/-1",
            }
        )
    )
    assert custom.quotas is False
    assert custom.supporter.limits.generations_per_month is None
    rates = custom.free.limits.rate_limits
    assert (rates.per_minute, rates.per_hour, rates.per_day) == (1, None, None)
    assert custom.of("SUPPORTER").plan is PlanName.SUPPORTER
    assert custom.of("anything else").plan is PlanName.FREE
    with pytest.raises(SettingsError):
        build_plan_catalogue(load_settings({}, plan_free_rate_limits="5/50"))


def test_get_plans_answers_anyone_with_every_member(tmp_path: Any) -> None:
    live = start_server(local_settings(tmp_path, plan_supporter_api_keys=-1))
    try:
        response = httpx.get(f"{live.url}/api/plans", headers={"Origin": "http://localhost:5173"})
    finally:
        live.stop()
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    plans = response.json()["plans"]
    assert set(plans) == {"FREE", "SUPPORTER"}
    free, supporter = plans["FREE"], plans["SUPPORTER"]
    assert (free["plan"], free["name"], free["price"]) == ("FREE", "Free", 0)
    assert (supporter["plan"], supporter["name"], supporter["price"]) == (
        "SUPPORTER",
        "Supporter",
        5,
    )
    assert set(free["limits"]) >= {
        "startingCredits",
        "creditRefillAmount",
        "creditRefillDays",
        "generationsPerMonth",
        "apiAccess",
        "maxApiKeys",
        "rateLimits",
        "supportLevel",
    }
    assert set(free["limits"]["rateLimits"]) == {"perMinute", "perHour", "perDay"}
    assert free["limits"]["startingCredits"] == 10
    assert free["limits"]["generationsPerMonth"] == 30
    assert supporter["limits"]["maxApiKeys"] is None  # a negative setting: unlimited
    assert supporter["limits"]["creditRefillAmount"] == 300


def quota_stack(uow: UnitOfWorkFactory, *, free: int, supporter: int = 5) -> Stack:
    """The stack, its submission service built with quotas on and small windows."""
    return with_plan_quota(build_stack(uow, start_credits=100), free=free, supporter=supporter)


async def test_the_quota_refuses_the_generation_past_the_window_s_limit(
    uow: UnitOfWorkFactory,
) -> None:
    stack = quota_stack(uow, free=3)
    user = await stack.user()
    first = stack.clock.now()
    for n in range(3):
        await stack.generation.submit(command(user, f"fox {n}"))
        stack.clock.advance(minutes=1)
    with pytest.raises(QuotaExceeded) as refused:
        await stack.generation.submit(command(user, "one too many"))
    error = refused.value
    assert error.code == "QUOTA_EXCEEDED"
    assert error.limit == 3
    assert error.reset_at == int((first + timedelta(days=30)).timestamp())
    assert error.retry_after > 0
    # Another user has their own window.
    other = await stack.user("bob@example.com")
    await stack.generation.submit(command(other, "a cat"))

    # The oldest generation leaves the window: one more is allowed.
    stack.clock.advance(days=30, minutes=-2)
    await stack.generation.submit(command(user, "a new month"))
    with pytest.raises(QuotaExceeded):
        await stack.generation.submit(command(user, "and again"))


async def test_failed_jobs_do_not_count_and_supporters_get_their_own_quota(
    uow: UnitOfWorkFactory,
) -> None:
    stack = quota_stack(uow, free=1, supporter=2)
    user = await stack.user()
    submitted = await stack.generation.submit(command(user, "a fox"))
    await stack.generation.cancel(user, submitted.job.id)  # FAILED (CANCELED), refunded
    await stack.generation.submit(command(user, "a fox again"))
    with pytest.raises(QuotaExceeded):
        await stack.generation.submit(command(user, "a third fox"))

    async with uow() as tx:
        account = await tx.users.get(user)
        assert account is not None
        await tx.users.update(replace(account, plan="SUPPORTER"))
        await tx.commit()
    await stack.generation.submit(command(user, "a supporter's fox"))
    with pytest.raises(QuotaExceeded):
        await stack.generation.submit(command(user, "one too many"))


async def test_quotas_off_lets_every_generation_through(uow: UnitOfWorkFactory) -> None:
    stack = build_stack(uow, start_credits=100)  # the test settings turn quotas off
    user = await stack.user()
    for n in range(35):
        await stack.generation.submit(command(user, f"fox {n}"))
    async with uow() as tx:
        jobs = await tx.jobs.list_for_user(user, status=JobStatus.QUEUED, limit=100, before=None)
    assert len(jobs) == 35


def test_start_up_checks_paypal_s_credentials_and_what_billing_lacks() -> None:
    from chatsvg.entrypoints.startup import check_environment

    with pytest.raises(SettingsError):
        check_environment(environ={"PAYPAL_CLIENT_ID": "id"})
    with pytest.raises(SettingsError):
        check_environment(environ={"CHATSVG_PLAN_SUPPORTER_RATE_LIMITS": "fast"})
    _s, _a, warnings = check_environment(
        environ={"PAYPAL_CLIENT_ID": "id", "PAYPAL_CLIENT_SECRET": "secret"}
    )
    assert any("PAYPAL_WEBHOOK_ID" in w for w in warnings)
    assert any("PAYPAL_SUPPORTER_PLAN_ID" in w for w in warnings)
    _s, _a, warnings = check_environment(environ={})
    assert not any("PAYPAL" in w for w in warnings)
