"""Rate limits that really limit: N pass, N+1 is refused with the headers, the window recovers,
processes share one count through Redis, and a spoofed X-Forwarded-For changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from chatsvg.adapters.rate_limits import LimitsRateLimiter, RatePolicy
from tests.e2e.test_http_contract import assert_problem
from tests.support.live import ApiClient, LiveServer


async def test_generate_limit_blocks_at_n_plus_one_and_recovers(
    server_factory: Callable[..., LiveServer], client_factory: Callable[..., ApiClient]
) -> None:
    live = server_factory(rate_generate="3/2", worker=False)
    c = client_factory(base=live)
    await c.register("limits@example.com")
    remaining = []
    for i in range(3):
        ok = await c.post("/api/svg/generate-svg", {"prompt": f"limited {i}"})
        assert ok.status_code == 202, ok.text
        assert ok.headers["x-ratelimit-limit"] == "3"
        remaining.append(int(ok.headers["x-ratelimit-remaining"]))
        assert int(ok.headers["x-ratelimit-reset"]) > 0
    assert remaining == [2, 1, 0]
    refused = await c.post("/api/svg/generate-svg", {"prompt": "one too many"})
    body = assert_problem(refused, 429, "RATE_LIMITED")
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert body["error"]
    await asyncio.sleep(2.2)
    again = await c.post("/api/svg/generate-svg", {"prompt": "after the window"})
    assert again.status_code == 202


async def test_login_failures_are_throttled_per_account_and_address_despite_spoofed_forwarded_for(
    server_factory: Callable[..., LiveServer], client_factory: Callable[..., ApiClient]
) -> None:
    live = server_factory(rate_login="3/60", worker=False)
    c = client_factory(base=live)
    await c.register("victim@example.com")
    for i in range(3):
        r = await c.post(
            "/api/auth/login",
            {"email": "victim@example.com", "password": "wrong password"},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        )
        assert_problem(r, 401, "INVALID_CREDENTIALS")
    spoofed = await c.post(
        "/api/auth/login",
        {"email": "victim@example.com", "password": "correct horse"},
        headers={"X-Forwarded-For": "198.51.100.77"},
    )
    assert_problem(spoofed, 429, "RATE_LIMITED")
    assert int(spoofed.headers["retry-after"]) >= 1


async def test_forwarded_for_is_used_behind_a_trusted_proxy(
    server_factory: Callable[..., LiveServer], client_factory: Callable[..., ApiClient]
) -> None:
    live = server_factory(rate_login="2/60", trusted_proxies=("127.0.0.1/32",), worker=False)
    c = client_factory(base=live)
    await c.register("proxied@example.com")
    for _ in range(2):
        r = await c.post(
            "/api/auth/login",
            {"email": "proxied@example.com", "password": "wrong password"},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        assert_problem(r, 401, "INVALID_CREDENTIALS")
    blocked = await c.post(
        "/api/auth/login",
        {"email": "proxied@example.com", "password": "correct horse"},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert_problem(blocked, 429, "RATE_LIMITED")
    other_client = await c.post(
        "/api/auth/login",
        {"email": "proxied@example.com", "password": "correct horse"},
        headers={"X-Forwarded-For": "203.0.113.10"},
    )
    assert other_client.status_code == 200
    sessions = (await c.get("/api/auth/sessions")).json()["sessions"]
    assert any(s["ipAddress"] == "203.0.113.10" for s in sessions)


async def test_register_is_limited_per_address(
    server_factory: Callable[..., LiveServer], client_factory: Callable[..., ApiClient]
) -> None:
    live = server_factory(rate_register="2/60", worker=False)
    c = client_factory(base=live)
    await c.load_page()
    for i in range(2):
        await c.register(f"r{i}@example.com")
    refused = await c.post(
        "/api/auth/register",
        {
            "email": "r9@example.com",
            "password": "correct horse",
            "name": "R",
            "agreedToTerms": True,
        },
    )
    assert_problem(refused, 429, "RATE_LIMITED")


@pytest.mark.real
async def test_two_api_processes_share_one_limit_through_redis(
    stack_kind: str,
    server_factory: Callable[..., LiveServer],
    client_factory: Callable[..., ApiClient],
) -> None:
    if stack_kind != "real":
        pytest.skip("sharing needs Redis")
    a = server_factory(rate_generate="3/60", worker=False)
    b = server_factory(rate_generate="3/60", worker=False)
    via_a = client_factory(base=a)
    await via_a.register("shared@example.com")
    via_b = client_factory(base=b)
    await via_b.load_page()
    via_b.http.cookies = via_a.http.cookies
    via_b.csrf = via_a.csrf
    assert (await via_a.post("/api/svg/generate-svg", {"prompt": "a1"})).status_code == 202
    assert (await via_b.post("/api/svg/generate-svg", {"prompt": "b1"})).status_code == 202
    assert (await via_a.post("/api/svg/generate-svg", {"prompt": "a2"})).status_code == 202
    assert_problem(await via_b.post("/api/svg/generate-svg", {"prompt": "b2"}), 429, "RATE_LIMITED")


async def test_an_unreachable_store_fails_open_or_closed_per_purpose() -> None:
    limiter = LimitsRateLimiter.on_redis(
        "redis://127.0.0.1:1/0",
        {
            "generate": RatePolicy(5, 60, fail_open=True),
            "login": RatePolicy(5, 60, fail_open=False),
        },
    )
    generate = await limiter.hit("generate", "u1")
    login = await limiter.hit("login", "u1|1.2.3.4")
    assert generate.allowed is True
    assert login.allowed is False and login.retry_after > 0
