"""API keys and the /v1 use cases, on every storage adapter set (memory, SQLite, Postgres)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from chatsvg.application.keys.public_api import Caller, PublicApi, credits_charged
from chatsvg.application.keys.service import ApiKeyService, CreateKey
from chatsvg.domain.errors import (
    IdempotencyKeyReused,
    InsufficientCredits,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from chatsvg.domain.generation.jobs import JobSource, JobStatus
from chatsvg.domain.keys.keys import ApiKeyForbidden, ApiKeyInvalid, ApiKeyLimit, Scope
from tests.conftest import Stack


def keys(stack: Stack) -> ApiKeyService:
    return stack.container.keys.service()  # type: ignore[no-any-return]


def public(stack: Stack) -> PublicApi:
    return stack.container.keys.public_api()  # type: ignore[no-any-return]


async def new_key(stack: Stack, user: str, **extra: object) -> str:
    created = await keys(stack).create(CreateKey(user_id=user, name="ci", **extra))  # type: ignore[arg-type]
    return created.token


async def generate(
    stack: Stack, caller: Caller, prompt: str = "a red fox", key: str | None = None
) -> tuple[str, bool]:
    submitted = await public(stack).generate(
        caller,
        prompt=prompt,
        style=None,
        model=None,
        privacy=None,
        raw_body={"prompt": prompt},
        idempotency_key=key,
    )
    return submitted.job.id, submitted.duplicate


async def test_a_key_is_shown_once_stored_hashed_and_listed_with_its_scopes(stack: Stack) -> None:
    user = await stack.user()
    created = await keys(stack).create(
        CreateKey(user_id=user, name="  My  app ", description="ci", ip_whitelist=["10.0.0.0/8"])
    )
    token = created.token
    assert token.startswith("sk_live_") and len(token) >= len("sk_live_") + 32
    assert set(token[8:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    listed = await keys(stack).list_keys(user)
    assert [k.id for k in listed] == [created.key.id]
    key = listed[0]
    assert (key.name, key.description, key.ip_whitelist) == ("My app", "ci", ("10.0.0.0/8",))
    assert key.scopes == (Scope.GENERATE_SVG.value, Scope.READ_GENERATION.value)
    assert token.startswith(key.key_prefix) and len(key.key_prefix) < len(token)
    assert token not in (key.key_hash, key.key_prefix)
    assert (await public(stack).authenticate(token)).key.id == key.id


async def test_the_plan_limits_the_number_of_live_keys(stack: Stack) -> None:
    user = await stack.user()
    first = await keys(stack).create(CreateKey(user_id=user, name="one"))
    with pytest.raises(ApiKeyLimit):
        await keys(stack).create(CreateKey(user_id=user, name="two"))  # FREE: one key
    await keys(stack).revoke(user, first.key.id)
    await keys(stack).create(CreateKey(user_id=user, name="two"))


@pytest.mark.parametrize(
    "bad",
    [
        {"name": ""},
        {"name": "x" * 101},
        {"name": "ok", "environment": "staging"},
        {"name": "ok", "ip_whitelist": ["not-an-ip"]},
        {"name": "ok", "scopes": ["admin"]},
    ],
)
async def test_a_bad_key_request_is_a_validation_error(
    stack: Stack, bad: dict[str, object]
) -> None:
    user = await stack.user()
    with pytest.raises(ValidationFailed):
        await keys(stack).create(CreateKey(user_id=user, **bad))  # type: ignore[arg-type]


async def test_missing_unknown_revoked_and_expired_keys_are_invalid(stack: Stack) -> None:
    user = await stack.user()
    api = public(stack)
    for token in (None, "", "sk_live_short", "sk_live_" + "A" * 43, "Bearer whatever"):
        with pytest.raises(ApiKeyInvalid):
            await api.authenticate(token)
    token = await new_key(stack, user, expires_at=stack.clock.now() + timedelta(hours=1))
    await api.authenticate(token)
    stack.clock.advance(hours=2)
    with pytest.raises(ApiKeyInvalid):
        await api.authenticate(token)
    assert await keys(stack).list_keys(user) == []  # an expired key is no longer listed

    other = await stack.user("bob@example.com")
    token = await new_key(stack, other)
    key_id = (await api.authenticate(token)).key.id
    with pytest.raises(NotFound):
        await keys(stack).revoke(user, key_id)  # not hers
    await keys(stack).revoke(other, key_id)
    with pytest.raises(ApiKeyInvalid):
        await api.authenticate(token)
    with pytest.raises(NotFound):
        await keys(stack).revoke(other, key_id)  # already revoked


async def test_the_allow_list_and_the_scopes_are_enforced(stack: Stack) -> None:
    user = await stack.user()
    token = await new_key(
        stack, user, ip_whitelist=["203.0.113.0/24", "2001:db8::1"], scopes=["read:generation"]
    )
    api = public(stack)
    caller = await api.authenticate(token)
    api.authorize(caller, scope=Scope.READ_GENERATION, address="203.0.113.9")
    api.authorize(caller, scope=Scope.READ_GENERATION, address="2001:db8::1")
    api.authorize(caller, scope=Scope.READ_GENERATION, address="::ffff:203.0.113.9")
    with pytest.raises(ApiKeyForbidden):
        api.authorize(caller, scope=Scope.READ_GENERATION, address="198.51.100.1")
    with pytest.raises(ApiKeyForbidden):
        api.authorize(caller, scope=Scope.GENERATE_SVG, address="203.0.113.9")


async def test_a_generation_through_a_key_is_the_web_apps_with_source_and_key(stack: Stack) -> None:
    user = await stack.user()
    api = public(stack)
    caller = await api.authenticate(await new_key(stack, user))
    job_id, duplicate = await generate(stack, caller, key="k-1")
    assert not duplicate
    again, duplicate = await generate(stack, caller, key="k-1")
    assert (again, duplicate) == (job_id, True)
    with pytest.raises(IdempotencyKeyReused):
        await generate(stack, caller, prompt="a blue fox", key="k-1")
    await stack.drain()
    found = await api.job(caller, job_id)
    job = found.details.job
    assert (job.status, job.source, job.api_key_id) == (
        JobStatus.SUCCEEDED,
        JobSource.API,
        caller.key.id,
    )
    assert found.details.svg and found.details.svg.startswith("<svg")
    assert found.url is not None and credits_charged(job)
    assert await stack.library.ledger(user, limit=100, cursor=None)
    other = await public(stack).authenticate(await new_key(stack, await stack.user("b@x.io")))
    with pytest.raises(NotFound):
        await api.job(other, job_id)


async def test_a_test_key_runs_offline_for_free_and_never_hits_402(
    make_stack: object,
) -> None:
    stack: Stack = make_stack(start_credits=0)  # type: ignore[operator]
    user = await stack.user()
    live = await public(stack).authenticate(await new_key(stack, user))
    with pytest.raises(InsufficientCredits):
        await generate(stack, live)
    await keys(stack).revoke(user, live.key.id)
    test = await public(stack).authenticate(await new_key(stack, user, environment="test"))
    job_id, _ = await generate(stack, test)
    await stack.drain()
    job = (await public(stack).job(test, job_id)).details.job
    assert (job.status, job.model, job.cost, credits_charged(job)) == (
        JobStatus.SUCCEEDED,
        "offline",
        0,
        False,
    )


async def test_generations_are_held_to_the_plan_rate_or_the_keys_own(stack: Stack) -> None:
    user = await stack.user()
    api = public(stack)
    caller = await api.authenticate(await new_key(stack, user))
    decisions = [await api.admit_generation(caller) for _ in range(5)]  # FREE: 5 a minute
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0]
    assert decisions[0].limit == 5
    with pytest.raises(RateLimited) as refused:
        await api.admit_generation(caller)
    assert refused.value.retry_after >= 1

    other = await stack.user("c@x.io")
    own = await api.authenticate(await new_key(stack, other, custom_rate_limit=2))
    await api.admit_generation(own)
    await api.admit_generation(own)
    with pytest.raises(RateLimited):
        await api.admit_generation(own)


async def test_usage_records_add_up_per_key_and_in_the_summary(stack: Stack) -> None:
    user = await stack.user()
    api = public(stack)
    caller = await api.authenticate(await new_key(stack, user))
    await api.record(caller, endpoint="POST /v1/svg/generate", status=202, latency_ms=30, credits=1)
    await api.record(caller, endpoint="POST /v1/svg/generate", status=402, latency_ms=10, credits=0)
    await api.record(caller, endpoint="GET /v1/svg/job", status=200, latency_ms=5, credits=0)
    stats = await keys(stack).stats(user, caller.key.id)
    assert (stats.total, stats.succeeded, stats.failed, stats.credits) == (3, 2, 1, 1)
    assert stats.success_rate == pytest.approx(66.67)
    summary = await keys(stack).summary(user)
    assert (summary.total, summary.average_latency_ms) == (3, 15)
    day = stack.clock.now().date().isoformat()
    assert (await keys(stack).summary(user, start=day, end=day)).total == 3
    tomorrow = (stack.clock.now() + timedelta(days=1)).date().isoformat()
    assert (await keys(stack).summary(user, start=tomorrow)).total == 0
    listed = (await keys(stack).list_keys(user))[0]
    assert (listed.usage_count, listed.last_used_at) == (3, stack.clock.now())
    with pytest.raises(ValidationFailed):
        await keys(stack).summary(user, start="yesterday")
    with pytest.raises(NotFound):
        await keys(stack).stats(await stack.user("d@x.io"), caller.key.id)


async def test_concurrent_creations_cannot_pass_the_plans_count_together(stack: Stack) -> None:
    user = await stack.user()
    results = await asyncio.gather(
        *(keys(stack).create(CreateKey(user_id=user, name=f"k{n}")) for n in range(6)),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, ApiKeyLimit)]
    assert (len(created), len(refused)) == (1, 5), results
    assert len(await keys(stack).list_keys(user)) == 1
