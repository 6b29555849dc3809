"""Notifications: exactly one per (job, type), whatever retries or replays happen; badge and seen."""

from __future__ import annotations

from chatsvg.domain.generation.jobs import JobStatus
from tests.behaviour.test_generation import command
from tests.conftest import Stack
from tests.support.fakes import permanent, transient


async def types_of(stack: Stack, user: str) -> list[str]:
    page, _ = await stack.notifications.latest(user, limit=100, cursor=None)
    return sorted(n.type for n in page.items)


async def test_welcome_then_one_per_outcome_even_with_retries_and_replays(stack: Stack) -> None:
    user = await stack.user()
    assert await types_of(stack, user) == ["WELCOME"]
    stack.generator.script.extend([transient(), transient()])
    ok = (await stack.generation.submit(command(user, "retried then fine"))).job
    await stack.drain()
    await stack.processor.process(ok.id)  # a replayed message
    stack.generator.script.append(permanent())
    bad = (await stack.generation.submit(command(user, "refused"))).job
    await stack.drain()
    await stack.processor.process(bad.id)
    assert (await stack.generation.details(user, ok.id)).job.status is JobStatus.SUCCEEDED
    assert await types_of(stack, user) == ["JOB_FAILED", "JOB_SUCCEEDED", "WELCOME"]
    live = sorted(
        p["type"] for (event, _, p) in stack.realtime.events if event == "notification:new"
    )
    assert live == ["JOB_FAILED", "JOB_SUCCEEDED"]


async def test_low_credits_once_per_job_at_the_threshold(make_stack: object) -> None:
    stack = make_stack(start_credits=3)  # type: ignore[operator]
    user = await stack.user()
    for i in range(3):
        await stack.generation.submit(command(user, f"p{i}"))
        await stack.drain()
    page, _ = await stack.notifications.latest(user, limit=100, cursor=None)
    low = [n for n in page.items if n.type == "LOW_CREDITS"]
    assert sorted(n.data["balance"] for n in low) == [
        0,
        1,
        2,
    ]  # threshold 2: after the 1st, 2nd and 3rd charge


async def test_badge_counts_what_came_after_seen(stack: Stack) -> None:
    user = await stack.user()
    assert await stack.notifications.unread_count(user) == 1
    await stack.notifications.mark_seen(user)
    assert await stack.notifications.unread_count(user) == 0
    stack.clock.advance(seconds=1)
    await stack.generation.submit(command(user))
    await stack.drain()
    assert await stack.notifications.unread_count(user) == 1
    page, seen_at = await stack.notifications.latest(user, limit=10, cursor=None)
    assert seen_at is not None and [n.type for n in page.items] == ["JOB_SUCCEEDED", "WELCOME"]
