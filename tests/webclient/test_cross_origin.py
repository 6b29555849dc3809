"""The web client's behaviour, cross-origin, in a real Chromium against the real server.

A page served from its own origin (tests/webclient/pages, with the official socket.io-client
4.8.1) does what the ChatSVG web client does, and the hostile cases a browser really allows are
tried from a third origin. See docs/web-client.md for what this proves and how to deploy it.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.live import LiveServer
from tests.webclient.conftest import PAGES, PASSWORD, Browser, ClientPage, Sites, new_email

pytestmark = pytest.mark.browser

SOCKET_IO_SHA256 = "6e1fe90688a686dcd6baadc5a3bdc7aa741f8a01c147381af515a2ccca05f2fc"
# A prompt that would run script if the SVG it ends up in were inlined unsanitized.
HOSTILE_PROMPT = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def _cookies(context: Any) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in context.cookies()}


def _wait_for(tab: ClientPage, predicate: str, timeout: float = 8000) -> None:
    tab.page.wait_for_function(predicate, timeout=timeout)


def test_the_vendored_socket_io_client_is_the_official_4_8_1() -> None:
    bundle = PAGES / "vendor" / "socket.io.esm.min.js"
    data = bundle.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SOCKET_IO_SHA256
    assert b"Socket.IO v4.8.1" in data[:200]
    assert SOCKET_IO_SHA256 in (PAGES / "vendor" / "VENDOR.md").read_text()


def test_a_second_connect_while_the_socket_connects_keeps_it_and_its_updates(
    browser: Browser, api: LiveServer
) -> None:
    tab = browser.tab(api)
    tab.register()
    # socket.io-client sends two CONNECTs on one connection; python-socketio refused the second
    # with CONNECT_ERROR, upon which the client destroyed its connected socket for good.
    socket = tab.call("connectTwiceWhileConnecting")
    assert socket == {"connected": True, "active": True, "errors": []}
    frames = [r for r in tab.requests if r.url.startswith(f"{api.url}/socket.io/?")]
    assert frames  # the socket did talk to this server

    result = tab.call("generate", {"prompt": "a red kite"}, tab.call("newIdempotencyKey"))
    assert result["job"]["status"] == "SUCCEEDED"
    assert [u["status"] for u in result["updates"]][-1] == "SUCCEEDED"  # over the socket
    assert tab.call("socketState")["connected"]


def test_page_load_csrf_once_then_register_logout_login_with_cookies_only(
    browser: Browser, api: LiveServer
) -> None:
    context = browser.context()
    tab = browser.tab(api, context=context)

    # Page load: one GET /api/csrf, then current-user 401 → one refresh (no session) → signed out.
    state = tab.state()
    assert state["csrfFetches"] == 1
    assert state["user"] is None and state["bootError"] is None
    assert [r.status for r in tab.api_calls("GET", "/api/csrf")] == [200]
    assert tab.api_calls("GET", "/api/csrf")[0].headers["cache-control"] == "no-store"
    assert [r.status for r in tab.api_calls("POST", "/api/auth/refresh")] == [401]
    assert "csrf-token" in tab.call("readCookies")  # readable by scripts, as the contract says

    email = new_email()
    user = tab.register(email, name="Ada Lovelace")
    assert user["email"] == email and user["name"] == "Ada Lovelace"
    assert user["credits"] == 10 and user["plan"] == "FREE"
    assert tab.page.text_content("#credits") == "10"

    cookies = _cookies(context)
    assert cookies["token"]["httpOnly"] and cookies["token"]["sameSite"] == "Lax"
    assert cookies["refreshToken"]["httpOnly"] and cookies["refreshToken"]["sameSite"] == "Strict"
    assert cookies["refreshToken"]["path"] == "/api/auth"
    assert not cookies["csrf-token"]["httpOnly"] and cookies["csrf-token"]["sameSite"] == "Lax"
    assert not any(c["secure"] for c in cookies.values())  # local mode over plain http
    assert "token=" not in tab.call("readCookies").replace("csrf-token=", "")

    taken = tab.fail("register", "Bob", email, PASSWORD, True)
    assert (taken["status"], taken["code"]) == (409, "EMAIL_TAKEN")
    assert tab.error_text() == taken["message"] != ""

    assert tab.call("logout") == 204
    assert "token" not in _cookies(context) and "refreshToken" not in _cookies(context)
    assert tab.call("currentUser") is None

    wrong = tab.fail("login", email, "not the password", False)
    assert (wrong["status"], wrong["code"]) == (401, "INVALID_CREDENTIALS")
    assert "Invalid" in tab.error_text()

    user = tab.call("login", email, PASSWORD, True)
    assert user["email"] == email
    remember = _cookies(context)["refreshToken"]["expires"] - time.time()
    assert 29 * 86400 < remember <= 30 * 86400 + 60  # rememberMe: 30 days

    assert tab.call("authOptions") == {"emailAuthEnabled": True, "oauthProviders": []}
    # The token from the page load served register, logout and login: never fetched again.
    assert tab.state()["csrfFetches"] == 1
    assert len(tab.api_calls("GET", "/api/csrf")) == 1
    # Every unsafe request carried it.
    for seen in tab.requests:
        if seen.method in ("POST", "PATCH", "DELETE") and seen.url.startswith(api.url):
            assert seen.headers.get("x-csrf-token"), seen.url


def test_generate_over_socket_io_then_inline_the_svg_safely(
    browser: Browser, api: LiveServer
) -> None:
    tab = browser.tab(api)
    tab.register()
    key = tab.call("newIdempotencyKey")
    form = {"prompt": HOSTILE_PROMPT, "style": "flat", "privacy": True, "model": "offline"}

    result = tab.call("generate", form, key)

    assert result["submitStatus"] == 202 and result["duplicate"] is False
    job = result["job"]
    assert result["location"] == f"/api/svg/generation-jobs/{job['id']}"
    assert job["status"] == "SUCCEEDED" and job["generation"]["svg"].startswith("<svg")
    assert job["generationId"] == job["generation"]["id"]
    assert result["credits"] == 9 and tab.page.text_content("#credits") == "9"
    # The updates the socket delivered for this job, in order, ending with the terminal one.
    statuses = [u["status"] for u in result["updates"]]
    assert statuses[-1] == "SUCCEEDED" and "RUNNING" in statuses
    progress = [u["progress"] for u in result["updates"]]
    assert progress == sorted(progress) and progress[-1] == 100
    assert all(u["jobId"] == job["id"] for u in result["updates"])
    assert result["updates"][-1]["generationId"] == job["generationId"]

    # Socket.IO: default path, cookie only, long-polling first, then the websocket upgrade.
    socket = tab.call("socketState")
    assert socket["connected"] and socket["connectMs"] < 8000
    assert socket["transports"][0] == "polling"
    assert socket["serverReady"] == [{"ok": True}]
    _wait_for(tab, "() => window.chat.state.transports.includes('websocket')")
    polling = [r for r in tab.requests if r.url.startswith(f"{api.url}/socket.io/?")]
    assert polling and all(
        "transport=polling" in r.url or "transport=websocket" in r.url for r in polling
    )

    # job.generation.svg went into the page with innerHTML: only inert SVG arrived.
    report = tab.call("inlineReport")
    assert report["svgCount"] == 1
    assert report["scripts"] == 0 and report["handlers"] == [] and report["foreign"] == 0
    assert report["pwned"] is None
    assert "<script>" in report["text"]  # the prompt is shown as text, not parsed as markup
    tab.page.mouse.move(100, 200)
    tab.page.click("#svg-result")
    assert tab.page.evaluate("() => window.__pwned") is None

    # A retry of the same submit (same key, same body) is the same job, not a second charge.
    again = tab.call("submit", form, key)
    assert again["status"] == 200 and again["duplicate"] is True
    assert again["job"]["id"] == job["id"]
    assert tab.call("credits") == {"balance": 9}
    reused = tab.fail("submit", {**form, "prompt": "something else"}, key)
    assert (reused["status"], reused["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert tab.error_text() == reused["message"]
    keys = {
        r.headers.get("x-idempotency-key") for r in tab.requests if r.url.endswith("/generate-svg")
    }
    assert keys == {key}

    # Signing out drops this session's sockets server-side; without the cookie, no new one.
    assert tab.call("logout") == 204
    _wait_for(tab, "() => window.chat.state.disconnects.length > 0")
    assert tab.state()["disconnects"] == ["io server disconnect"]
    refused = tab.fail("waitForSocket")
    assert refused["message"] == "unauthorized"


def test_history_images_source_download_gallery_and_delete(
    browser: Browser, api: LiveServer
) -> None:
    tab = browser.tab(api)
    tab.register()
    public = tab.call(
        "generate", {"prompt": "a public lighthouse", "style": "gradient", "privacy": False},
        tab.call("newIdempotencyKey"),
    )["job"]["generation"]  # fmt: skip
    private = tab.call(
        "generate", {"prompt": "a private teapot", "style": "outline", "privacy": True},
        tab.call("newIdempotencyKey"),
    )["job"]["generation"]  # fmt: skip

    listed = tab.call("history")
    assert [g["id"] for g in listed["generations"]] == [private["id"], public["id"]]
    assert listed["nextCursor"] is None
    images = tab.call("images", "history")
    assert len(images) == 2 and all(i["naturalWidth"] > 0 for i in images), images

    assert tab.call("source", private["id"]) == {"id": private["id"], "svg": private["svg"]}

    # The download URL is fetched cross-origin without credentials and kept as a blob.
    with tab.page.expect_response(lambda r: "/api/files/" in r.url and "dl=1" in r.url) as fetched:
        saved = tab.call("download", private["id"])
    assert "cookie" not in fetched.value.request.all_headers()
    headers = fetched.value.all_headers()
    assert headers["access-control-allow-origin"] == browser.sites.web.origin
    assert headers["content-type"].startswith("image/svg+xml")
    assert headers["content-disposition"].startswith("attachment")
    assert headers["x-content-type-options"] == "nosniff"
    assert "script-src" not in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert urlsplit(saved["downloadUrl"]).netloc == urlsplit(api.url).netloc
    assert saved["type"] == "image/svg+xml" and saved["size"] == len(private["svg"].encode())
    assert saved["text"] == private["svg"]

    # The gallery, for anyone: a signed-out tab in a fresh cookie jar sees the public one only.
    stranger = browser.tab(api)
    gallery = stranger.call("gallery")
    ids = [g["id"] for g in gallery["publicGenerations"]]
    assert public["id"] in ids and private["id"] not in ids
    shown = [i for i in stranger.call("images", "gallery") if i["id"] == public["id"]]
    assert shown and shown[0]["naturalWidth"] > 0
    assert stranger.call("source", public["id"])["svg"] == public["svg"]
    hidden = stranger.fail("source", private["id"])
    assert (hidden["status"], hidden["code"]) == (404, "NOT_FOUND")

    assert tab.call("deleteGeneration", private["id"]) == 204
    assert [g["id"] for g in tab.call("history")["generations"]] == [public["id"]]
    gone = tab.fail("source", private["id"])
    assert (gone["status"], gone["code"]) == (404, "NOT_FOUND")
    assert tab.error_text() == gone["message"]


def test_notifications_badge_latest_and_seen(browser: Browser, api: LiveServer) -> None:
    tab = browser.tab(api)
    tab.register()
    probe = tab.run("badge")
    if not probe["ok"] and probe["status"] == 404:
        pytest.xfail("notifications endpoints pending")
    tab.call("generate", {"prompt": "a bell"}, tab.call("newIdempotencyKey"))

    unread = tab.call("badge")
    assert unread >= 1 and tab.page.text_content("#badge") == str(unread)
    latest = tab.call("latest", 10)
    assert latest["notifications"] and "nextCursor" in latest
    kinds = {n["type"] for n in latest["notifications"]}
    assert kinds <= {"WELCOME", "JOB_SUCCEEDED", "JOB_FAILED", "LOW_CREDITS"}
    assert "JOB_SUCCEEDED" in kinds
    for n in latest["notifications"]:
        assert set(n) >= {"id", "type", "title", "message", "data", "createdAt", "readAt"}
    assert tab.call("seen") == {"ok": True}
    assert tab.call("badge") == 0


def test_rate_limited_login_shows_the_error_and_retry_after(
    browser: Browser, api: LiveServer
) -> None:
    tab = browser.tab(api)
    email = new_email()
    tab.register(email)
    tab.call("logout")
    for _ in range(3):
        assert tab.fail("login", email, "wrong password", False)["status"] == 401
    limited = tab.fail("login", email, "wrong password", False)
    assert (limited["status"], limited["code"]) == (429, "RATE_LIMITED")
    assert limited["retryAfter"] is not None and int(limited["retryAfter"]) > 0
    assert limited["message"].endswith(f". Retry after {limited['retryAfter']} seconds.")
    assert tab.error_text() == limited["message"]


def test_a_stale_or_foreign_csrf_token_is_refused(browser: Browser, api: LiveServer) -> None:
    context = browser.context()
    tab = browser.tab(api, context=context)
    tab.register()

    def refused(token: str) -> None:
        tab.call("setCsrfTokenForTest", token)
        result = tab.fail("logout")
        assert (result["status"], result["code"]) == (403, "CSRF_FAILED"), result
        assert tab.error_text() == result["message"]

    original = _cookies(context)["csrf-token"]["value"]  # what the page holds in memory
    refused("not-a-token")
    other = browser.tab(api)  # a well-formed token, minted for another browser
    refused(_cookies(other.page.context)["csrf-token"]["value"])
    tab.call("setCsrfTokenForTest", original)
    assert tab.state()["csrfFetches"] == 1

    # Stale: the cookie is gone (cleared, expired) and another tab minted a new one, while this
    # page still holds the token it fetched at load.
    context.clear_cookies(name="csrf-token")
    second = browser.tab(api, context=context)
    assert second.call("currentUser") is not None
    result = tab.fail("logout")
    assert (result["status"], result["code"]) == (403, "CSRF_FAILED")
    # Refused means no effect: still signed in, and the fresh tab (new token) can sign out.
    assert tab.call("currentUser") is not None
    assert second.call("logout") == 204
    assert tab.call("currentUser") is None


def test_a_hostile_origin_can_neither_read_nor_forge(browser: Browser, api: LiveServer) -> None:
    # The victim signs in on the real page; then, in the same browser, visits the hostile origin.
    # It is on the same host (same site): the browser sends the victim's cookies with its requests,
    # so only CORS and the CSRF checks stand in the way.
    context = browser.context()
    victim = browser.tab(api, context=context)
    victim.register()
    before = _cookies(context)
    hostile = browser.tab(api, context=context, hostile=True)
    assert "Failed to fetch" in str(hostile.state()["bootError"])  # no CORS grant for /api/csrf

    for path in ("/api/auth/current-user", "/api/csrf", "/api/user/generations"):
        read = hostile.call("probeRead", path)
        assert read["rejected"], (path, read)
        opaque = hostile.call("probeNoCors", "GET", path)
        assert (opaque["type"], opaque["status"]) == ("opaque", 0), (path, opaque)
    cors = hostile.call("probeRead", "/api/auth/options")
    assert cors["rejected"]
    # The no-cors reads did reach the API with the victim's cookies (200), but it granted no CORS,
    # so the page got an opaque nothing.
    reached = [r for r in hostile.responses if r.url.startswith(api.url)]
    assert [r.status for r in reached] == [200, 200, 200], [(r.url, r.status) for r in reached]
    assert not any("access-control-allow-origin" in r.headers for r in reached)

    # Cookies ignore ports: the hostile page can read csrf-token. Sending it needs a preflight,
    # which gets no grant, so the request itself is never made.
    stolen = dict(
        part.strip().split("=", 1) for part in hostile.call("readCookies").split(";") if part
    )["csrf-token"]
    blocked = hostile.call("probeWithHeader", "POST", "/api/auth/logout", stolen)
    assert blocked["rejected"]
    assert not hostile.api_calls("POST", "/api/auth/logout")

    # What a page may send without a preflight reaches the server, and is refused there.
    sent = hostile.call("probeNoCors", "POST", "/api/auth/logout")
    assert sent["type"] == "opaque"
    hostile.call("probeForm", "/api/auth/logout")
    body = '{"prompt": "forged", "model": "offline", "privacy": false}'
    hostile.call("probeNoCors", "POST", "/api/svg/generate-svg", body)
    hostile.call("probeForm", "/api/svg/generate-svg", body)
    statuses = [r.status for r in hostile.responses if r.method == "POST"]
    assert statuses == [403, 403, 403, 403], statuses  # CSRF is judged before the body

    # Socket.IO: refused for this origin, over long-polling and over a direct websocket (which
    # would carry the cookie: the handshake's Origin check is all there is).
    polling = hostile.call("probeSocket", None)
    assert polling == {"connected": False, "error": "xhr poll error"}  # 400 on the handshake
    direct = hostile.call("probeSocket", ["websocket"])
    assert direct == {"connected": False, "error": "websocket error"}

    # No effect: the victim is still signed in with the same session, nothing was generated.
    assert victim.call("currentUser") is not None
    after = _cookies(context)
    assert after["token"]["value"] == before["token"]["value"]
    assert after["refreshToken"]["value"] == before["refreshToken"]["value"]
    assert victim.call("jobs")["jobs"] == [] and victim.call("credits") == {"balance": 10}
    # ...while the real page on the allowed origin can do all of it.
    assert victim.call("socketState")["connected"] is False
    victim.call("waitForSocket")
    assert victim.call("socketState")["connected"] is True


def test_a_hostile_origin_cannot_sign_a_browser_in(browser: Browser, api: LiveServer) -> None:
    attacker = browser.tab(api)
    email = new_email()
    attacker.register(email)
    context = browser.context()
    hostile = browser.tab(api, context=context, hostile=True)
    creds = f'{{"email": "{email}", "password": "{PASSWORD}", "rememberMe": true}}'
    hostile.call("probeForm", "/api/auth/login", creds)
    hostile.call("probeNoCors", "POST", "/api/auth/login", creds)
    hostile.call(
        "probeNoCors", "POST", "/api/auth/login", creds, "application/x-www-form-urlencoded"
    )
    statuses = [r.status for r in hostile.api_calls("POST", "/api/auth/login")]
    assert statuses == [403, 403, 403], statuses
    cookies = _cookies(context)
    assert "token" not in cookies and "refreshToken" not in cookies


CONCURRENT = """() => Promise.all(
  ["currentUser", "history", "credits", "jobs"].map((name) => window.chat.run(name))
)"""


def test_an_access_token_expiring_mid_session_is_refreshed_once_and_retried(
    browser: Browser, short_api: LiveServer
) -> None:
    tab = browser.tab(short_api)
    tab.register()
    boot = tab.state()  # the signed-out page load met one 401 and tried one refresh
    time.sleep(2.5)  # the two-second access token (and its cookie) expire

    results = tab.page.evaluate(CONCURRENT)
    assert all(r["ok"] for r in results), results
    state = tab.state()
    assert len(state["unauthorized"]) - len(boot["unauthorized"]) == 4  # four concurrent 401s...
    assert state["refreshCalls"] - boot["refreshCalls"] == 1  # ...one refresh between them
    refreshes = tab.api_calls("POST", "/api/auth/refresh")
    assert [r.status for r in refreshes] == [401, 200]
    assert results[0]["value"]["credits"] == 10

    # A submit that meets an expired token is retried once, after a refresh, with the same key.
    time.sleep(2.5)
    key = tab.call("newIdempotencyKey")
    done = tab.call("generate", {"prompt": "after a refresh"}, key)
    assert done["job"]["status"] == "SUCCEEDED" and done["credits"] == 9
    submits = tab.api_calls("POST", "/api/svg/generate-svg")
    assert [r.status for r in submits] == [401, 202]
    keys = [
        r.headers.get("x-idempotency-key") for r in tab.requests if r.url.endswith("/generate-svg")
    ]
    assert keys == [key, key]
    assert [r.status for r in tab.api_calls("POST", "/api/auth/refresh")] == [401, 200, 200]

    # A page load with an expired access token: current-user 401, one refresh, one retry.
    time.sleep(2.5)
    tab.reload()
    state = tab.state()
    assert state["user"] is not None and state["refreshCalls"] == 1 and state["csrfFetches"] == 1
    assert [r.status for r in tab.api_calls("POST", "/api/auth/refresh")][-1] == 200


def test_an_allowed_origin_on_another_site_cannot_sign_in(
    browser: Browser, api: LiveServer, sites: Sites
) -> None:
    # http://localhost:<port> is on the API's list, but the API is http://127.0.0.1:<port>: another
    # site. CORS lets the page read answers, yet the browser keeps the SameSite cookies to itself,
    # so the CSRF double-submit (and any session) cannot work. Deploy both under one site.
    context = browser.context()
    tab = browser.tab(api, context=context, origin=sites.web.other_site_origin)
    assert tab.state()["csrfFetches"] == 1 and tab.state()["bootError"] is None
    assert tab.call("authOptions")["emailAuthEnabled"] is True  # CORS itself is granted
    assert "csrf-token" not in _cookies(context)  # set by a cross-site response: dropped
    refused = tab.fail("register", "Ada", new_email(), PASSWORD, True)
    assert (refused["status"], refused["code"]) == (403, "CSRF_FAILED")
