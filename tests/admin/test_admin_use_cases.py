"""Admin sign-in and metrics as use cases, on memory, SQLite and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from chatsvg.adapters.clock import FrozenClock
from chatsvg.adapters.rate_limits import LimitsRateLimiter, RatePolicy
from chatsvg.application.admin.access import AdminAccess
from chatsvg.application.admin.metrics import AdminMetrics
from chatsvg.application.mail.outbox import MailOutbox
from chatsvg.application.ports import MailMessage, UnitOfWorkFactory
from chatsvg.application.ports.admin import p95
from chatsvg.domain.accounts.users import User
from chatsvg.domain.admin.access import (
    REQUEST_ACCESS_MESSAGE,
    AdminLinkInvalid,
    AdminSignInRequired,
)
from chatsvg.domain.errors import RateLimited
from chatsvg.domain.generation.generations import SvgGeneration
from chatsvg.domain.generation.jobs import GenerationJob, JobStatus
from chatsvg.domain.generation.usage import JobUsage

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ADMIN = "boss@example.com"


class Mailbox:
    def __init__(self) -> None:
        self.sent: list[MailMessage] = []

    async def send(self, message: MailMessage) -> None:
        self.sent.append(message)


def access_for(
    uow: UnitOfWorkFactory, clock: FrozenClock, limit: int = 100
) -> tuple[AdminAccess, MailOutbox]:
    outbox = MailOutbox(uow=uow, mailer=Mailbox(), clock=clock)  # type: ignore[arg-type]
    limiter = LimitsRateLimiter.in_memory({"admin-access": RatePolicy(limit, 900, fail_open=False)})
    access = AdminAccess(
        uow=uow,  # type: ignore[arg-type]
        outbox=outbox,
        clock=clock,
        limiter=limiter,
        admins=frozenset({ADMIN}),
        auth_url="https://api.example/api/admin/auth",
        min_response_seconds=0,
    )
    return access, outbox


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def test_a_link_signs_in_once_and_logout_ends_the_session(uow: UnitOfWorkFactory) -> None:
    clock = FrozenClock(NOW)
    access, _ = access_for(uow, clock)
    token = token_of(await access.issue_link(ADMIN))

    signed_in = await access.sign_in(token)
    assert signed_in.email == ADMIN and signed_in.expires_at == NOW + timedelta(hours=24)
    assert await access.admin(signed_in.token) == ADMIN
    with pytest.raises(AdminLinkInvalid):
        await access.sign_in(token)  # single use

    await access.logout(signed_in.token)
    with pytest.raises(AdminSignInRequired):
        await access.admin(signed_in.token)
    with pytest.raises(AdminSignInRequired):
        await access.admin(None)


async def test_an_expired_link_and_an_expired_session_are_refused(uow: UnitOfWorkFactory) -> None:
    clock = FrozenClock(NOW)
    access, _ = access_for(uow, clock)
    late = token_of(await access.issue_link(ADMIN))
    fresh = token_of(await access.issue_link(ADMIN))
    clock.advance(minutes=4, seconds=59)
    session = await access.sign_in(fresh)
    clock.advance(seconds=1)  # five minutes after it was issued
    with pytest.raises(AdminLinkInvalid):
        await access.sign_in(late)
    clock.advance(hours=24)
    with pytest.raises(AdminSignInRequired):
        await access.admin(session.token)


async def test_request_access_answers_alike_mails_only_admins_and_is_limited(
    uow: UnitOfWorkFactory,
) -> None:
    clock = FrozenClock(NOW)
    access, outbox = access_for(uow, clock, limit=2)
    answers = [
        await access.request_access(ADMIN, "10.0.0.1"),
        await access.request_access("someone@example.com", "10.0.0.2"),
    ]
    assert [a.message for a in answers] == [REQUEST_ACCESS_MESSAGE, REQUEST_ACCESS_MESSAGE]
    assert [(a.rate.limit, a.rate.remaining) for a in answers] == [(2, 1), (2, 1)]
    mails = await outbox.recent()
    assert [m.message.to for m in mails] == [ADMIN]
    link = mails[0].message.text.split("\n\n")[1]
    assert (await access.sign_in(token_of(link))).email == ADMIN

    # The same limit for every address: per client address and per email address.
    await access.request_access(ADMIN, "10.0.0.1")
    with pytest.raises(RateLimited):
        await access.request_access("third@example.com", "10.0.0.1")
    await access.request_access("someone@example.com", "10.0.0.3")
    with pytest.raises(RateLimited):
        await access.request_access("someone@example.com", "10.0.0.4")
    with pytest.raises(AdminSignInRequired):
        await access.issue_link("someone@example.com")  # not an admin: no link at all


def job(
    user: str,
    n: int,
    status: JobStatus,
    *,
    days_ago: float = 1,
    usage: JobUsage | None = None,
    seconds: int = 0,
) -> GenerationJob:
    created = NOW - timedelta(days=days_ago)
    finished = status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
    return GenerationJob(
        id=f"{user}-job-{n}",
        user_id=user,
        prompt="a fox",
        style="minimal",
        model="gpt-4o",
        privacy=False,
        cost=1,
        status=status,
        created_at=created,
        updated_at=created,
        attempts=1,
        usage=usage,
        started_at=created if finished else None,
        finished_at=created + timedelta(seconds=seconds) if finished else None,
    )


def usage(
    latency: int, prompt: int, completion: int, cost: float, repaired: bool = False
) -> JobUsage:
    return JobUsage("gpt-4o", prompt, completion, latency, repaired, cost)


async def test_the_metrics_are_the_hand_computed_figures(uow: UnitOfWorkFactory) -> None:
    users = ["user-a", "user-b", "user-c"]
    jobs = [
        # user-a: four answered jobs in the last 30 days, three succeeded.
        job("user-a", 1, JobStatus.SUCCEEDED, usage=usage(100, 1000, 400, 0.5), seconds=2),
        job("user-a", 2, JobStatus.SUCCEEDED, usage=usage(200, 2000, 600, 0.25), seconds=4),
        job("user-a", 3, JobStatus.SUCCEEDED, usage=usage(300, 3000, 800, 0.125, True), seconds=6),
        job("user-a", 4, JobStatus.FAILED, usage=usage(1000, 500, 0, 0.0)),
        # user-b: two jobs, one in the queue, one running, no usage yet.
        job("user-b", 1, JobStatus.QUEUED),
        job("user-b", 2, JobStatus.RUNNING),
        # user-c: an old job (40 days): counted in the totals, not in the 30-day activity.
        job(
            "user-c",
            1,
            JobStatus.SUCCEEDED,
            days_ago=40,
            usage=usage(400, 100, 200, 0.0005),
            seconds=8,
        ),
    ]
    async with uow() as u:
        for user_id in users:
            await u.users.add(
                User.open(
                    user_id=user_id,
                    email=f"{user_id}@example.com",
                    name="U",
                    password_hash=None,
                    now=NOW - timedelta(days=60),
                )
            )
        for j in jobs:
            await u.jobs.add(j)
        for j in jobs:
            if j.status is JobStatus.SUCCEEDED:
                await u.generations.add(
                    SvgGeneration(
                        f"gen-{j.id}",
                        j.user_id,
                        j.id,
                        "a fox",
                        "minimal",
                        "gpt-4o",
                        False,
                        f"k/{j.id}",
                        10,
                        j.finished_at or NOW,
                    )
                )
        await u.commit()

    async def depth() -> int:
        return 7

    metrics = AdminMetrics(uow=uow, clock=FrozenClock(NOW), queue_depth=depth, cache_seconds=0)  # type: ignore[arg-type]
    got = await metrics.metrics()

    latencies = [100, 200, 300, 1000, 400]
    # percentile_cont(0.95): rank 0.95 * 4 = 3.8 between 400 and 1000 -> 400 + 0.8 * 600 = 880.
    assert p95(latencies) == pytest.approx(880)
    cost = 0.5 + 0.25 + 0.125 + 0.0 + 0.0005
    assert got == {
        "ai": {
            "totalJobs": 5,
            "avgPromptTokens": round((1000 + 2000 + 3000 + 500 + 100) / 5),  # 1320
            "avgCompletionTokens": round((400 + 600 + 800 + 0 + 200) / 5),  # 400
            "totalTokens": 6600 + 2000,
            "avgLatencyMs": round(sum(latencies) / 5),  # 400
            "p95LatencyMs": 880,
            "repairRate": "20.00%",
            "totalCostUSD": "$0.88",  # 0.8755
            "avgCostPerJobUSD": f"${cost / 5:.4f}",  # $0.1751
        },
        "jobs": {
            "total": 7,
            "succeeded": 4,
            "failed": 1,
            "queued": 1,
            "running": 1,
            "queueDepth": 7,
            "successRate": "80.00%",
            "avgDurationMs": round((2 + 4 + 6 + 8) / 4 * 1000),  # 5000
        },
        "users": {
            "activeUsers30d": 2,
            "totalGenerations30d": 3,
            "topGenerators": [
                {"userId": "user-a", "jobCount": 4},
                {"userId": "user-b", "jobCount": 2},
            ],
        },
    }
    assert got["ai"]["avgCostPerJobUSD"] == "$0.1751"


async def test_metrics_of_an_empty_database_are_zeros_not_nan(uow: UnitOfWorkFactory) -> None:
    async def depth() -> int:
        raise ConnectionError("queue down")

    got = await AdminMetrics(uow=uow, clock=FrozenClock(NOW), queue_depth=depth).metrics()  # type: ignore[arg-type]
    assert got["ai"]["p95LatencyMs"] == 0 and got["ai"]["repairRate"] == "0.00%"
    assert got["ai"]["totalCostUSD"] == "$0.00" and got["jobs"]["successRate"] == "0.00%"
    assert got["jobs"]["queueDepth"] == 0 and got["users"]["topGenerators"] == []
