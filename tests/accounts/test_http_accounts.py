"""Password reset by mail and OAuth sign-in over real HTTP: a live ChatSVG server, a real SMTP server
on 127.0.0.1 and the fake OAuth provider."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from chatsvg.adapters.sql.engine import SqlDatabase
from chatsvg.application.accounts.ports import MailStatus, OutboxMail
from chatsvg.entrypoints.mail_cli import add_mail_command
from tests.accounts.conftest import SmtpServer
from tests.accounts.fake_oauth import FakeOAuthProvider, FakeUser
from tests.support.live import ApiClient, LiveServer

WEB_APP = "http://127.0.0.1:5173"
SENDER = "ChatSVG <no-reply@chatsvg.example>"
Make = Callable[..., LiveServer]


def smtp_env(smtp: SmtpServer, **extra: str) -> dict[str, str]:
    return {
        "CHATSVG_SMTP_HOST": "127.0.0.1",
        "CHATSVG_SMTP_PORT": str(smtp.port),
        "CHATSVG_SMTP_TLS": "none",
        "CHATSVG_SMTP_FROM": SENDER,
        "CHATSVG_WEB_APP_URL": WEB_APP,
        **extra,
    }


def cli_main(argv: list[str]) -> int:
    """`chatsvg mail ...` as the CLI runs it (cli.py adds the command with add_mail_command)."""
    import argparse

    parser = argparse.ArgumentParser(prog="chatsvg")
    add_mail_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def set_cookie(response: httpx.Response, name: str) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    return None


def problem_code(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["errorCode"])


def reset_token_of(message: Any) -> str:
    text = message.get_body(("plain",)).get_content()
    link = next(word for word in text.split() if "token=" in word)
    assert link.startswith(f"{WEB_APP}/reset-password?token=")
    return parse_qs(urlsplit(link).query)["token"][0]


async def outbox_of(live: LiveServer) -> list[OutboxMail]:
    """The server's outbox, read from its database."""
    db = SqlDatabase(live.settings.effective_database_url)
    try:
        async with db.uow() as uow:
            return await uow.mail_outbox.recent(10)
    finally:
        await db.dispose()


async def client_of(live: LiveServer) -> ApiClient:
    client = ApiClient(live.url)
    await client.load_page()
    return client


# -- password reset ---------------------------------------------------------------------------


async def test_a_reset_mail_arrives_its_link_works_once_and_old_sessions_end(
    accounts_server: Make, smtp: SmtpServer
) -> None:
    live = accounts_server(env=smtp_env(smtp))
    laptop, phone = await client_of(live), await client_of(live)
    try:
        await laptop.register("ada@example.com", password="old password")
        login = await phone.post(
            "/api/auth/login", {"email": "ada@example.com", "password": "old password"}
        )
        assert login.status_code == 200
        assert (await laptop.get("/api/auth/current-user")).status_code == 200

        stranger = ApiClient(live.url)
        await stranger.load_page()
        forgot = await stranger.post("/api/auth/forgot-password", {"email": "ada@example.com"})
        assert forgot.status_code == 200 and forgot.json()["ok"] is True
        [mail] = await smtp.inbox.wait(1)
        assert mail["To"] == "ada@example.com" and mail["From"] == SENDER
        assert mail.get_body(("html",)) is not None
        token = reset_token_of(mail)

        reset = await stranger.post(
            "/api/auth/reset-password", {"token": token, "newPassword": "new password"}
        )
        assert reset.status_code == 200 and reset.json()["ok"] is True
        again = await stranger.post(
            "/api/auth/reset-password", {"token": token, "newPassword": "newer password"}
        )
        assert again.status_code == 400 and problem_code(again) == "INVALID_RESET_TOKEN"

        for old in (laptop, phone):
            current = await old.get("/api/auth/current-user")
            assert current.status_code == 401, "the old sessions stopped working"
            refreshed = await old.post("/api/auth/refresh")
            assert refreshed.status_code == 401
        wrong = await stranger.post(
            "/api/auth/login", {"email": "ada@example.com", "password": "old password"}
        )
        assert wrong.status_code == 401
        right = await stranger.post(
            "/api/auth/login", {"email": "ada@example.com", "password": "new password"}
        )
        assert right.status_code == 200
        await stranger.aclose()
    finally:
        await laptop.aclose()
        await phone.aclose()


async def test_forgot_answers_alike_and_in_similar_time_for_known_and_unknown_addresses(
    accounts_server: Make, smtp: SmtpServer
) -> None:
    live = accounts_server(env=smtp_env(smtp), rate_forgot_password="1000/60")
    client = await client_of(live)
    try:
        await client.register("known@example.com")
        timings: dict[str, list[float]] = {"known": [], "unknown": []}
        bodies: dict[str, set[str]] = {"known": set(), "unknown": set()}
        for round_ in range(4):
            for kind in ("known", "unknown"):
                email = "known@example.com" if kind == "known" else f"nobody{round_}@example.com"
                started = time.perf_counter()
                response = await client.post("/api/auth/forgot-password", {"email": email})
                timings[kind].append(time.perf_counter() - started)
                assert response.status_code == 200
                bodies[kind].add(response.text)
        assert bodies["known"] == bodies["unknown"] and len(bodies["known"]) == 1
        known, unknown = statistics.median(timings["known"]), statistics.median(timings["unknown"])
        assert abs(known - unknown) < 0.1, (timings, "known and unknown differ in time")
        await smtp.inbox.wait(4)
    finally:
        await client.aclose()


async def test_smtp_being_down_changes_nothing_for_the_client_and_the_mail_arrives_later(
    accounts_server: Make, smtp_down: SmtpServer
) -> None:
    live = accounts_server(
        env=smtp_env(
            smtp_down,
            CHATSVG_MAIL_RETRY_BASE_SECONDS="0.2",
            CHATSVG_MAIL_RETRY_CAP_SECONDS="0.5",
            CHATSVG_SMTP_TIMEOUT_SECONDS="3",
        ),
        rate_forgot_password="1000/60",
    )
    client = await client_of(live)
    try:
        await client.register("ada@example.com")
        unknown = await client.post("/api/auth/forgot-password", {"email": "zed@example.com"})
        known = await client.post("/api/auth/forgot-password", {"email": "ada@example.com"})
        assert known.status_code == unknown.status_code == 200
        assert known.text == unknown.text

        deadline = time.monotonic() + 10
        while True:
            [mail] = await outbox_of(live)
            if mail.attempts >= 2:
                break
            assert time.monotonic() < deadline, "the outbox did not retry"
            await asyncio.sleep(0.05)
        assert mail.status == MailStatus.PENDING and mail.last_error

        smtp_down.start()
        [received] = await smtp_down.inbox.wait(1, timeout=10)
        assert reset_token_of(received)
        deadline = time.monotonic() + 5
        while (await outbox_of(live))[0].status != MailStatus.SENT:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()


async def test_in_local_mode_the_reset_mail_is_read_with_chatsvg_mail(
    accounts_server: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    live = accounts_server(env={"CHATSVG_WEB_APP_URL": WEB_APP})
    client = await client_of(live)
    try:
        await client.register("ada@example.com")
        forgot = await client.post("/api/auth/forgot-password", {"email": "ada@example.com"})
        assert forgot.status_code == 200
        outbox_dir = live.settings.data_path / "outbox"
        deadline = time.monotonic() + 10
        while not list(outbox_dir.glob("*.eml")):
            assert time.monotonic() < deadline, "no mail in the local outbox"
            await asyncio.sleep(0.05)
        assert cli_main(["mail", "--dir", str(outbox_dir), "show", "latest"]) == 0
        shown = capsys.readouterr().out
        link = next(word for word in shown.split() if "token=" in word)
        token = parse_qs(urlsplit(link).query)["token"][0]
        reset = await client.post(
            "/api/auth/reset-password", {"token": token, "newPassword": "new password"}
        )
        assert reset.status_code == 200
    finally:
        await client.aclose()


async def test_reset_password_refuses_bad_tokens_and_bad_passwords(
    accounts_server: Make, smtp: SmtpServer
) -> None:
    live = accounts_server(env=smtp_env(smtp))
    client = await client_of(live)
    try:
        bad = await client.post(
            "/api/auth/reset-password", {"token": "nope", "newPassword": "long enough"}
        )
        assert bad.status_code == 400 and problem_code(bad) == "INVALID_RESET_TOKEN"
        short = await client.post("/api/auth/reset-password", {"token": "nope", "newPassword": "x"})
        assert short.status_code == 400 and problem_code(short) == "VALIDATION_ERROR"
        missing = await client.post("/api/auth/forgot-password", {})
        assert missing.status_code == 400 and problem_code(missing) == "VALIDATION_ERROR"
        no_csrf = await client.http.post("/api/auth/forgot-password", json={"email": "a@b.co"})
        assert no_csrf.status_code == 403 and problem_code(no_csrf) == "CSRF_FAILED"
    finally:
        await client.aclose()


async def test_forgot_password_is_rate_limited(accounts_server: Make, smtp: SmtpServer) -> None:
    live = accounts_server(env=smtp_env(smtp), rate_forgot_password="2/3600")
    client = await client_of(live)
    try:
        for _ in range(2):
            ok = await client.post("/api/auth/forgot-password", {"email": "x@example.com"})
            assert ok.status_code == 200
        limited = await client.post("/api/auth/forgot-password", {"email": "x@example.com"})
        assert limited.status_code == 429 and problem_code(limited) == "RATE_LIMITED"
        assert int(limited.headers["retry-after"]) >= 1
    finally:
        await client.aclose()


# -- OAuth ------------------------------------------------------------------------------------


def oauth_env(fake: FakeOAuthProvider, *providers: str) -> dict[str, str]:
    env = {"CHATSVG_WEB_APP_URL": WEB_APP}
    for provider in providers:
        env.update(fake.google_env() if provider == "google" else fake.github_env())
    return env


async def begin(client: ApiClient, provider: str, redirect: str | None = "/gallery") -> str:
    """Start sign-in and let the (auto-approving) provider answer; returns the callback URL."""
    params = {"redirectUrl": redirect} if redirect is not None else {}
    start = await client.get(f"/api/auth/{provider}", params=params)
    assert start.status_code == 302, start.text
    to_provider = await client.http.get(start.headers["location"])
    assert to_provider.status_code == 302, to_provider.text
    callback = to_provider.headers["location"]
    assert callback.startswith(f"{client.http.base_url}/api/auth/{provider}/callback?")
    return callback


def error_of(response: httpx.Response) -> str | None:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    if not location.startswith(f"{WEB_APP}/login?"):
        return None
    return parse_qs(urlsplit(location).query)["error"][0]


async def test_oauth_sign_in_creates_then_signs_in_the_same_account(
    accounts_server: Make, fake_oauth: FakeOAuthProvider
) -> None:
    live = accounts_server(env=oauth_env(fake_oauth, "google", "github"))
    options = await (await client_of(live)).get("/api/auth/options")
    assert options.json()["oauthProviders"] == ["google", "github"]
    for provider in ("google", "github"):
        fake_oauth.user = FakeUser(subject=f"{len(provider)}42", email=f"{provider}@example.com")
        first, second = await client_of(live), await client_of(live)
        try:
            start = await first.get(f"/api/auth/{provider}", params={"redirectUrl": "/gallery?x=1"})
            assert start.status_code == 302
            location = start.headers["location"]
            assert location.startswith(f"{fake_oauth.base_url}/authorize?")
            query = parse_qs(urlsplit(location).query)
            assert query["code_challenge_method"] == ["S256"] and len(query["state"][0]) >= 43
            assert query["redirect_uri"] == [f"{live.url}/api/auth/{provider}/callback"]
            assert ("nonce" in query) == (provider == "google")
            cookie = set_cookie(start, "oauth-state")
            assert cookie is not None
            flags = cookie.lower()
            assert "httponly" in flags and "samesite=lax" in flags and "path=/api/auth" in flags
            assert "secure" not in flags  # local mode over plain http
            provider_page = await first.http.get(location)
            done = await first.http.get(provider_page.headers["location"])
            assert done.status_code == 302
            assert done.headers["location"] == f"{WEB_APP}/gallery?x=1"
            assert set_cookie(done, "token") and set_cookie(done, "refreshToken")
            me = (await first.get("/api/auth/current-user")).json()
            assert me["email"] == f"{provider}@example.com" and me["credits"] == 10

            done = await second.http.get(await begin(second, provider))
            assert error_of(done) is None
            again = (await second.get("/api/auth/current-user")).json()
            assert again["id"] == me["id"]
            sessions = (await second.get("/api/auth/sessions")).json()["sessions"]
            assert len(sessions) == 2
        finally:
            await first.aclose()
            await second.aclose()


async def test_oauth_refuses_forged_state_missing_cookie_and_replayed_code(
    accounts_server: Make, fake_oauth: FakeOAuthProvider
) -> None:
    live = accounts_server(env=oauth_env(fake_oauth, "google"))
    client = await client_of(live)
    try:
        # A forged state: the callback's state is not the one in this browser's cookie.
        callback = await begin(client, "google")
        parts = urlsplit(callback)
        query = parse_qs(parts.query)
        forged = f"{parts.scheme}://{parts.netloc}{parts.path}?code={query['code'][0]}&state=forged"
        response = await client.http.get(forged)
        assert error_of(response) == "invalid_state" and not set_cookie(response, "token")

        # Login CSRF: a callback link made by someone else, opened in a browser with no pending sign-in.
        attacker_callback = await begin(client, "google")
        victim = ApiClient(live.url)
        response = await victim.http.get(attacker_callback)
        assert error_of(response) == "invalid_state" and not set_cookie(response, "token")
        await victim.aclose()

        # A replayed code: the first use signs in, the second is refused...
        callback = await begin(client, "google")
        state_cookie = client.http.cookies.get("oauth-state", path="/api/auth")
        assert error_of(await client.http.get(callback)) is None
        # ...both with the cookie cleared by the first use,
        response = await client.http.get(callback)
        assert error_of(response) == "invalid_state"
        # ...and with the state cookie put back: the provider refuses a used code.
        fresh = httpx.AsyncClient(base_url=live.url)
        fresh.cookies.set("oauth-state", state_cookie, domain="127.0.0.1", path="/api/auth")
        response = await fresh.get(callback)
        await fresh.aclose()
        assert error_of(response) == "provider_error" and not set_cookie(response, "token")
        assert "code already used" in fake_oauth.refused

        # A provider-side refusal (the user said no).
        response = await client.http.get(
            f"/api/auth/google/callback?error=access_denied&state={query['state'][0]}"
        )
        assert error_of(response) == "access_denied"
    finally:
        await client.aclose()


async def test_oauth_refuses_an_unverified_email(
    accounts_server: Make, fake_oauth: FakeOAuthProvider
) -> None:
    live = accounts_server(env=oauth_env(fake_oauth, "google", "github"))
    client = await client_of(live)
    try:
        await client.register("victim@example.com")
        for provider in ("google", "github"):
            fake_oauth.user = FakeUser(
                subject="666", email="victim@example.com", email_verified=False
            )
            outsider = await client_of(live)
            response = await outsider.http.get(await begin(outsider, provider))
            assert error_of(response) == "unverified_email" and not set_cookie(response, "token")
            assert (await outsider.get("/api/auth/current-user")).status_code == 401
            fake_oauth.user = FakeUser(subject="667", email="new@example.com", email_verified=False)
            response = await outsider.http.get(await begin(outsider, provider))
            assert error_of(response) == "unverified_email"
            await outsider.aclose()
        register = await client.post(
            "/api/auth/register",
            {"email": "new@example.com", "password": "x" * 12, "name": "N", "agreedToTerms": True},
        )
        assert register.status_code == 201, "no account was created for the unverified address"
    finally:
        await client.aclose()


OFF_SITE = [
    "https://evil.example/steal",
    "//evil.example/steal",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "",
    None,
]


async def test_oauth_never_redirects_off_the_web_app(
    accounts_server: Make, fake_oauth: FakeOAuthProvider
) -> None:
    live = accounts_server(env=oauth_env(fake_oauth, "google"))
    client = await client_of(live)
    try:
        for redirect in OFF_SITE:
            done = await client.http.get(await begin(client, "google", redirect))
            assert done.headers["location"] == f"{WEB_APP}/", redirect
            assert set_cookie(done, "token")
        # An encoded line break stays an (encoded, harmless) path on the web app.
        done = await client.http.get(await begin(client, "google", "/%0d%0aSet-Cookie:x=1"))
        assert done.headers["location"] == f"{WEB_APP}/%0d%0aSet-Cookie:x=1"
    finally:
        await client.aclose()


async def test_unconfigured_providers_are_404_and_not_offered(
    accounts_server: Make, fake_oauth: FakeOAuthProvider
) -> None:
    live = accounts_server(env={**oauth_env(fake_oauth, "github")}, email_auth_enabled=False)
    client = await client_of(live)
    try:
        options = (await client.get("/api/auth/options")).json()
        assert options == {"emailAuthEnabled": False, "oauthProviders": ["github"]}
        missing = await client.get("/api/auth/google")
        assert missing.status_code == 404 and problem_code(missing) == "NOT_FOUND"
        forgot = await client.post("/api/auth/forgot-password", {"email": "a@example.com"})
        assert forgot.status_code == 403 and problem_code(forgot) == "EMAIL_AUTH_DISABLED"
        done = await client.http.get(await begin(client, "github"))
        assert error_of(done) is None, "OAuth works with email sign-in off"
    finally:
        await client.aclose()
