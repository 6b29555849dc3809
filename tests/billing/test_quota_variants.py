"""The per-window generation quota counts drawings: a job of n variants uses n of the plan's
generations (on memory, SQLite and Postgres); a failed or cancelled (refunded) job still counts
nothing, and a refinement counts as the one drawing it makes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chatsvg.application.generation.submission import SubmitCommand
from chatsvg.application.ports import UnitOfWorkFactory
from chatsvg.domain.credits.plans import QuotaExceeded
from tests.billing.test_plans import quota_stack


def drawings(user_id: str, prompt: str, n: int) -> SubmitCommand:
    return SubmitCommand(user_id, prompt, None, None, None, {"prompt": prompt, "n": n}, n=n)


async def test_a_job_of_n_drawings_uses_n_of_the_window(uow: UnitOfWorkFactory) -> None:
    stack = quota_stack(uow, free=5)
    user = await stack.user()
    first = stack.clock.now()
    four = (await stack.generation.submit(drawings(user, "four foxes", 4))).job
    stack.clock.advance(minutes=1)
    async with uow() as tx:
        assert await tx.plan_usage.generations_since(user, first - timedelta(days=1)) == (4, first)

    # 4 used of 5: two more drawings do not fit, one does.
    with pytest.raises(QuotaExceeded) as refused:
        await stack.generation.submit(drawings(user, "two cats", 2))
    assert refused.value.limit == 5
    assert refused.value.reset_at == int((first + timedelta(days=30)).timestamp())
    assert "1 left" in refused.value.message and refused.value.remaining == 1
    await stack.generation.submit(drawings(user, "one cat", 1))
    with pytest.raises(QuotaExceeded) as full:
        await stack.generation.submit(drawings(user, "one more", 1))
    assert "left" not in full.value.message and full.value.remaining == 0

    # The job of four is cancelled (FAILED, refunded): its drawings no longer count.
    await stack.generation.cancel(user, four.id)
    async with uow() as tx:
        used, _ = await tx.plan_usage.generations_since(user, first - timedelta(days=1))
    assert used == 1
    await stack.generation.submit(drawings(user, "four owls", 4))
    with pytest.raises(QuotaExceeded):
        await stack.generation.submit(drawings(user, "past the limit", 1))

    # Another user's window is their own.
    other = await stack.user("bob@example.com")
    await stack.generation.submit(drawings(other, "four dogs", 4))


async def test_a_refinement_counts_as_its_one_drawing(uow: UnitOfWorkFactory) -> None:
    stack = quota_stack(uow, free=3)
    user = await stack.user()
    job = (await stack.generation.submit(drawings(user, "two suns", 2))).job
    await stack.drain()
    details = await stack.generation.details(user, job.id)
    parent = details.job.generation_id
    assert parent is not None
    refine = replace(drawings(user, "make it orange", 1), n=None, parent_id=parent)
    await stack.generation.submit(refine)
    with pytest.raises(QuotaExceeded):
        await stack.generation.submit(replace(refine, prompt="and bigger"))
