"""The HTTP contract of ../shared/API.md, over real HTTP against the embedded server."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import jwt
import pytest

from tests.support.live import ApiClient, LiveServer

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["errorCode"] == code
    assert body["error"] == body["detail"] and body["title"] and body["type"]
    return body


def set_cookie(response: httpx.Response, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


async def test_csrf_endpoint_mints_once_and_keeps_the_token(
    client_factory: Callable[..., ApiClient],
) -> None:
    c = client_factory()
    first = await c.get("/api/csrf")
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    cookie = set_cookie(first, "csrf-token")
    assert (
        "HttpOnly" not in cookie
        and "SameSite=lax" in cookie.replace("Lax", "lax")
        and "Secure" not in cookie
    )
    again = await c.get("/api/csrf")
    assert again.json()["csrfToken"] == first.json()["csrfToken"]
    assert "set-cookie" not in again.headers
    await c.register("csrf@example.com")
    after_login = await c.get("/api/csrf")
    assert after_login.json()["csrfToken"] == first.json()["csrfToken"]  # login never rotates it


async def test_state_changing_requests_need_the_csrf_header(
    client_factory: Callable[..., ApiClient],
) -> None:
    c = client_factory()
    await c.load_page()
    body = {
        "email": "x@example.com",
        "password": "correct horse",
        "name": "X",
        "agreedToTerms": True,
    }
    no_header = await c.http.post("/api/auth/register", json=body)
    assert_problem(no_header, 403, "CSRF_FAILED")
    wrong = await c.http.post(
        "/api/auth/register", json=body, headers={"X-CSRF-Token": "nope.nope"}
    )
    assert_problem(wrong, 403, "CSRF_FAILED")
    forged = c.csrf.split(".")[0] + ".0000"
    c.http.cookies.set("csrf-token", forged)
    same_but_unsigned = await c.http.post(
        "/api/auth/register", json=body, headers={"X-CSRF-Token": forged}
    )
    assert_problem(same_but_unsigned, 403, "CSRF_FAILED")


async def test_a_foreign_origin_fails_csrf_even_with_the_token(
    server: LiveServer, client_factory: Callable[..., ApiClient]
) -> None:
    evil = client_factory(origin="http://evil.example")
    await evil.load_page()
    response = await evil.post(
        "/api/auth/login", {"email": "a@example.com", "password": "whatever1"}
    )
    assert_problem(response, 403, "CSRF_FAILED")
    allowed = client_factory(origin="http://localhost:5173")
    await allowed.load_page()
    ok = await allowed.post("/api/auth/login", {"email": "a@example.com", "password": "whatever1"})
    assert_problem(ok, 401, "INVALID_CREDENTIALS")


async def test_register_sets_the_cookies_exactly_and_current_user_is_bare(
    client_factory: Callable[..., ApiClient],
) -> None:
    c = client_factory()
    await c.load_page()
    response = await c.post(
        "/api/auth/register",
        {
            "email": "Ada@Example.com",
            "password": "correct horse",
            "name": "Ada",
            "agreedToTerms": True,
            "extra": 1,
        },
    )
    assert response.status_code == 201
    user = response.json()["user"]
    assert set(user) >= {"id", "email", "name", "avatar", "credits", "plan", "createdAt"}
    assert (user["email"], user["credits"], user["plan"], user["avatar"]) == (
        "ada@example.com",
        10,
        "FREE",
        None,
    )
    token = set_cookie(response, "token")
    assert (
        "HttpOnly" in token and "Path=/" in token and "SameSite=lax" in token.replace("Lax", "lax")
    )
    refresh = set_cookie(response, "refreshToken")
    assert "HttpOnly" in refresh and "Path=/api/auth" in refresh and "strict" in refresh.lower()
    assert "Secure" not in token + refresh  # local mode over plain http
    me = await c.get("/api/auth/current-user")
    assert me.status_code == 200 and me.json()["id"] == user["id"] and "user" not in me.json()


async def test_register_validation_and_conflicts(client: ApiClient) -> None:
    await client.register("dup@example.com")
    client.http.cookies.clear()
    await client.load_page()
    taken = await client.post(
        "/api/auth/register",
        {
            "email": "dup@example.com",
            "password": "correct horse",
            "name": "D",
            "agreedToTerms": True,
        },
    )
    assert_problem(taken, 409, "EMAIL_TAKEN")
    terms = await client.post(
        "/api/auth/register",
        {
            "email": "t@example.com",
            "password": "correct horse",
            "name": "T",
            "agreedToTerms": False,
        },
    )
    assert_problem(terms, 400, "VALIDATION_ERROR")
    short = await client.post(
        "/api/auth/register",
        {"email": "s@example.com", "password": "short", "name": "S", "agreedToTerms": True},
    )
    assert_problem(short, 400, "VALIDATION_ERROR")


async def test_login_refresh_rotation_reuse_and_logout(
    client_factory: Callable[..., ApiClient],
) -> None:
    c = client_factory()
    await c.register("flow@example.com")
    old_refresh = c.http.cookies.get("refreshToken")
    refreshed = await c.post("/api/auth/refresh")
    assert refreshed.status_code == 200 and refreshed.json()["user"]["email"] == "flow@example.com"
    new_refresh = c.http.cookies.get("refreshToken")
    assert new_refresh and new_refresh != old_refresh
    # An attacker replays the old token: reuse, and the whole family dies.
    thief = client_factory()
    await thief.load_page()
    thief.http.cookies.set("refreshToken", old_refresh, path="/api/auth")
    reused = await thief.post("/api/auth/refresh")
    assert_problem(reused, 401, "REFRESH_TOKEN_REUSED")
    legit = await c.post("/api/auth/refresh")
    assert_problem(legit, 401, "UNAUTHENTICATED")
    # Sign in again and out.
    login = await c.post(
        "/api/auth/login", {"email": "flow@example.com", "password": "correct horse"}
    )
    assert login.status_code == 200
    access = c.http.cookies.get("token")
    assert (await c.get("/api/auth/current-user")).status_code == 200  # the session is now cached
    out = await c.post("/api/auth/logout")
    assert out.status_code == 204
    assert c.http.cookies.get("token") is None
    assert_problem(await c.get("/api/auth/current-user"), 401, "UNAUTHENTICATED")
    # A copy of the access token (still unexpired) stops working at once, not when it expires.
    stolen = await c.get("/api/auth/current-user", headers={"Authorization": f"Bearer {access}"})
    assert_problem(stolen, 401, "UNAUTHENTICATED")


async def test_logout_works_from_the_refresh_cookie_alone(
    client_factory: Callable[..., ApiClient],
) -> None:
    c = client_factory()
    await c.register("cookie-only@example.com")
    refresh = c.http.cookies.get("refreshToken")
    c.http.cookies.delete("token")
    out = await c.post("/api/auth/logout")
    assert out.status_code == 204
    other = client_factory()
    await other.load_page()
    other.http.cookies.set("refreshToken", refresh, path="/api/auth")
    assert (await other.post("/api/auth/refresh")).status_code == 401


async def test_remember_me_cookie_lives_30_days(client: ApiClient) -> None:
    await client.register("remember@example.com")
    login = await client.post(
        "/api/auth/login",
        {"email": "remember@example.com", "password": "correct horse", "rememberMe": True},
    )
    assert "Max-Age=2592000" in set_cookie(login, "refreshToken")
    plain = await client.post(
        "/api/auth/login", {"email": "remember@example.com", "password": "correct horse"}
    )
    assert "Max-Age=604800" in set_cookie(plain, "refreshToken")


async def test_bad_tokens_are_unauthenticated_and_expired_ones_token_expired(
    server: LiveServer, client: ApiClient
) -> None:
    await client.register("tokens@example.com")
    token = client.http.cookies.get("token")
    _header, payload, _sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    none_alg = (
        base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
        + "."
        + payload
        + "."
    )
    wrong_key = jwt.encode(claims, "another-secret-of-enough-length-000", algorithm="HS256")
    expired = jwt.encode(
        {**claims, "exp": claims["iat"] - 10}, server.settings.secret_key, algorithm="HS256"
    )
    for bad, code in [
        ("garbage", "UNAUTHENTICATED"),
        (none_alg, "UNAUTHENTICATED"),
        (wrong_key, "UNAUTHENTICATED"),
        (token[:-2] + "xx", "UNAUTHENTICATED"),
        (expired, "TOKEN_EXPIRED"),
    ]:
        r = await client.http.get(
            "/api/auth/current-user", headers={"Authorization": f"Bearer {bad}"}, cookies={}
        )
        assert_problem(r, 401, code)


async def test_bearer_requests_need_no_csrf(client_factory: Callable[..., ApiClient]) -> None:
    c = client_factory()
    await c.register("bearer@example.com")
    token = c.http.cookies.get("token")
    bare = httpx.AsyncClient(base_url=str(c.http.base_url))
    try:
        r = await bare.post(
            "/api/svg/generate-svg",
            json={"prompt": "bearer fox"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 202, r.text
    finally:
        await bare.aclose()


async def test_malformed_input_is_a_clear_4xx_never_a_500(client: ApiClient) -> None:
    await client.register("bad@example.com")
    h = {"X-CSRF-Token": client.csrf or ""}
    cases = [
        (
            await client.http.post(
                "/api/svg/generate-svg",
                content=b"{not json",
                headers={**h, "Content-Type": "application/json"},
            ),
            400,
            "VALIDATION_ERROR",
        ),
        (
            await client.http.post("/api/svg/generate-svg", json={"prompt": 5}, headers=h),
            400,
            "VALIDATION_ERROR",
        ),
        (
            await client.http.post("/api/svg/generate-svg", json=[1, 2], headers=h),
            400,
            "VALIDATION_ERROR",
        ),
        (
            await client.http.post(
                "/api/svg/generate-svg",
                content=b"prompt=x",
                headers={**h, "Content-Type": "text/plain"},
            ),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            await client.http.post("/api/svg/generate-svg", json={"prompt": "x" * 1001}, headers=h),
            400,
            "VALIDATION_ERROR",
        ),
        (
            await client.http.post("/api/svg/generate-svg", json={"prompt": "   "}, headers=h),
            400,
            "VALIDATION_ERROR",
        ),
        (
            await client.http.post(
                "/api/svg/generate-svg", json={"prompt": "ok", "style": "baroque"}, headers=h
            ),
            400,
            "VALIDATION_ERROR",
        ),
        (
            await client.http.post(
                "/api/svg/generate-svg", json={"prompt": "ok", "model": "davinci"}, headers=h
            ),
            400,
            "VALIDATION_ERROR",
        ),
        (
            await client.http.post(
                "/api/svg/generate-svg",
                content=b"{}",
                headers={**h, "Content-Type": "application/json"},
            ),
            400,
            "VALIDATION_ERROR",
        ),
        (
            await client.http.post(
                "/api/svg/generate-svg",
                content=b'{"prompt":"' + b"x" * 70_000 + b'"}',
                headers={**h, "Content-Type": "application/json"},
            ),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
        (await client.http.get("/api/svg/generation-jobs?limit=0"), 400, "VALIDATION_ERROR"),
        (await client.http.get("/api/svg/generation-jobs?limit=abc"), 400, "VALIDATION_ERROR"),
        (await client.http.get("/api/svg/generation-jobs?cursor=%%%"), 400, "VALIDATION_ERROR"),
        (await client.http.get("/api/nothing-here"), 404, "NOT_FOUND"),
        (await client.http.get("/api/svg/generation-jobs/not-a-job"), 404, "NOT_FOUND"),
        (await client.http.put("/api/auth/login", json={}, headers=h), 405, "METHOD_NOT_ALLOWED"),
    ]
    for response, status, code in cases:
        assert_problem(response, status, code)


async def test_posts_that_need_no_body_accept_none(client: ApiClient) -> None:
    await client.register("nobody@example.com")
    r = await client.http.post("/api/auth/refresh", headers={"X-CSRF-Token": client.csrf or ""})
    assert r.status_code == 200


async def test_cors_preflight_and_grants_only_for_allowed_origins(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        pre = await http.options(
            "/api/svg/generate-svg",
            headers={
                "Origin": "http://localhost:5173",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-csrf-token,x-idempotency-key",
            },
        )
        assert pre.status_code == 204
        assert pre.headers["access-control-allow-origin"] == "http://localhost:5173"
        assert pre.headers["access-control-allow-credentials"] == "true"
        assert "x-idempotency-key" in pre.headers["access-control-allow-headers"].lower()
        evil = await http.options(
            "/api/svg/generate-svg",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert evil.status_code < 500 and "access-control-allow-origin" not in evil.headers
        simple = await http.get("/api/csrf", headers={"Origin": "http://127.0.0.1:5173"})
        assert simple.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
        assert "Retry-After" in simple.headers["access-control-expose-headers"]
        none = await http.get("/api/csrf", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in none.headers


async def test_health_and_openapi(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        for path in ("/health/live", "/api/health"):
            assert (await http.get(path)).json()["status"] == "ok"
        for path in ("/health/ready", "/api/ready"):
            ready = await http.get(path)
            assert ready.status_code == 200 and ready.json()["checks"] == {
                "database": "ok",
                "queue": "ok",
                "storage": "ok",
            }
        schema = (await http.get("/schema/openapi.json")).json()
        assert "/api/svg/generate-svg" in schema["paths"] and "/api/auth/login" in schema["paths"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/auth/current-user",
        "/api/user/profile",
        "/api/svg/generation-jobs",
        "/api/user/generations",
        "/api/user/credits",
    ],
)
async def test_protected_routes_need_a_session(
    client_factory: Callable[..., ApiClient], path: str
) -> None:
    c = client_factory()
    assert_problem(await c.get(path), 401, "UNAUTHENTICATED")


async def test_notifications_bell(client: ApiClient) -> None:
    await client.register("bell@example.com")
    latest = (await client.get("/api/notification/latest")).json()
    assert [n["type"] for n in latest["notifications"]] == ["WELCOME"] and latest[
        "nextCursor"
    ] is None
    note = latest["notifications"][0]
    assert (
        set(note) >= {"id", "type", "title", "message", "data", "createdAt", "readAt"}
        and note["readAt"] is None
    )
    assert (await client.get("/api/notification/badge")).json() == {"unreadCount": 1}
    assert (await client.post("/api/notification/seen")).json() == {"ok": True}
    assert (await client.get("/api/notification/badge")).json() == {"unreadCount": 0}
    again = (await client.get("/api/notification/latest")).json()["notifications"][0]
    assert again["readAt"] is not None
