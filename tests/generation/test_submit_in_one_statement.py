"""Submitting a prompt: the credit check, the idempotency key and the insert in one statement
(`JobRepository.add_affordable_and_commit`), on memory, SQLite and Postgres. The refusals say
what they said when the check was a read before the insert, credits before the plan's quota."""

from __future__ import annotations

import asyncio

import pytest

from chatsvg.application.ports import UnitOfWorkFactory
from chatsvg.domain.credits.plans import QuotaExceeded
from chatsvg.domain.errors import InsufficientCredits
from chatsvg.domain.generation.jobs import JobStatus
from tests.behaviour.test_generation import command
from tests.conftest import build_stack, with_plan_quota


async def jobs_of(uow: UnitOfWorkFactory, user: str) -> list[str]:
    async with uow() as tx:
        jobs = await tx.jobs.list_for_user(user, status=None, limit=50, before=None)
    return [job.prompt for job in jobs]


async def test_a_refusal_names_the_balance_and_the_reserved_credits_and_writes_nothing(
    uow: UnitOfWorkFactory,
) -> None:
    stack = build_stack(uow, start_credits=2)
    user = await stack.user()
    await stack.generation.submit(command(user, "one"))
    await stack.generation.submit(command(user, "two"))

    with pytest.raises(InsufficientCredits) as refused:
        await stack.generation.submit(command(user, "three"))

    assert "you have 2, with 2 already reserved by queued jobs" in refused.value.message
    assert sorted(await jobs_of(uow, user)) == ["one", "two"]


async def test_a_job_is_recorded_queued_and_enqueued_once_accepted(uow: UnitOfWorkFactory) -> None:
    stack = build_stack(uow, start_credits=1)
    user = await stack.user()

    submitted = await stack.generation.submit(command(user, "a fox"))

    async with uow() as tx:
        stored = await tx.jobs.get(submitted.job.id)
    assert stored is not None and stored.status is JobStatus.QUEUED
    assert stored.cost == submitted.job.cost
    with pytest.raises(InsufficientCredits) as refused:
        await stack.generation.submit(command(user, "another"))
    assert "you have 1, with 1 already reserved" in refused.value.message


async def test_credits_are_refused_before_the_quota(uow: UnitOfWorkFactory) -> None:
    stack = with_plan_quota(build_stack(uow, start_credits=1), free=1)
    user = await stack.user()
    await stack.generation.submit(command(user, "the one allowed"))
    await stack.drain()  # charged: the balance is 0 and the window is full

    with pytest.raises(InsufficientCredits):
        await stack.generation.submit(command(user, "no credits, no quota"))


async def test_the_quota_refuses_a_user_who_can_pay(uow: UnitOfWorkFactory) -> None:
    stack = with_plan_quota(build_stack(uow, start_credits=10), free=1)
    user = await stack.user()
    await stack.generation.submit(command(user, "the one allowed"))

    with pytest.raises(QuotaExceeded):
        await stack.generation.submit(command(user, "one too many"))
    assert await jobs_of(uow, user) == ["the one allowed"]


async def test_parallel_submits_with_one_key_answer_one_job(uow: UnitOfWorkFactory) -> None:
    stack = build_stack(uow, start_credits=10)
    user = await stack.user()

    results = await asyncio.gather(
        *(stack.generation.submit(command(user, "same", key="k-1")) for _ in range(10))
    )

    assert len({r.job.id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1
    assert await jobs_of(uow, user) == ["same"]
