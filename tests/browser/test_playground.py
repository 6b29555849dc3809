"""The playground at `/`, used the way a person would, in real Chromium against the real server.

What is proven here: sign-up, prompts followed live over Socket.IO (no reload, no polling),
images of the sanitized files, downloads, history with paging, sign-out; isolation between two
people; a short access-token lifetime (refresh, retry, socket reconnect); a session the page did
not start itself (signed in from another page, from devtools or from outside the browser, with or
without a live access token) is picked up; the messages for validation errors, 402, 429 and
cancellation; the page's Content-Security-Policy, under which all of this runs, and no console
error in a normal session nor on a signed-out first visit.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import APIResponse, Locator, Page, Route, expect

from chatsvg.adapters.realtime.sockets import user_room
from tests.browser.conftest import ARTIFACTS, PASSWORD, ROOT, Tab
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser

DOCS_SCREENSHOT = ROOT / "docs" / "playground.png"
STATUS_ORDER = {"QUEUED": 0, "RUNNING": 1, "SUCCEEDED": 2, "FAILED": 2}

Servers = Callable[..., LiveServer]
Tabs = Callable[[], Tab]


# ---------------------------------------------------------------- helpers


def open_playground(tab: Tab, server: LiveServer) -> dict[str, str]:
    response = tab.page.goto(server.url + "/")
    assert response is not None and response.status == 200
    return response.headers


def sign_up(page: Page, email: str, name: str = "Ada Lovelace") -> None:
    expect(page.locator("#auth-view")).to_be_visible()
    page.get_by_role("tab", name="Create account").click()
    form = page.locator("#register-form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_label("I agree to the terms of service").check()
    form.get_by_role("button", name="Create account").click()
    expect(page.locator("#app-view")).to_be_visible()
    expect(page.locator("#who")).to_have_text(name)
    expect(page.locator("#live")).to_have_attribute("data-state", "live")


def job_card(page: Page, prompt: str) -> Locator:
    return page.locator("#jobs .job").filter(has=page.locator(".job-prompt", has_text=prompt))


def submit(page: Page, prompt: str, style: str | None = None) -> str:
    """Submit a prompt from the form; the job's card appears at once. Returns the job id."""
    page.locator("#prompt").fill(prompt)
    if style:
        page.locator("#style").select_option(style)
    page.locator("#generate").click()
    card = job_card(page, prompt)
    expect(card).to_have_count(1)
    job_id = card.get_attribute("data-job-id")
    assert job_id
    return job_id


def card_by_id(page: Page, job_id: str) -> Locator:
    return page.locator(f'#jobs .job[data-job-id="{job_id}"]')


def wait_status(page: Page, job_id: str, status: str, timeout: float = 15_000) -> Locator:
    card = card_by_id(page, job_id)
    expect(card).to_have_attribute("data-status", status, timeout=timeout)
    return card


def wait_image(page: Page, image: Locator) -> int:
    """Wait until the <img> has loaded a picture; returns its natural width."""
    expect(image).to_be_visible()
    handle = image.element_handle()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=handle)
    return int(image.evaluate("(img) => img.naturalWidth"))


def assert_live_sequence(tab: Tab, job_id: str, final: str = "SUCCEEDED") -> None:
    """The job's updates arrived over the socket, in order, QUEUED first and `final` last."""
    statuses = [u["status"] for u in tab.job_updates(job_id)]
    assert statuses, f"no generation-job:update received for {job_id}"
    assert statuses[0] == "QUEUED" and statuses[-1] == final, statuses
    ranks = [STATUS_ORDER[s] for s in statuses]
    assert ranks == sorted(ranks), statuses
    if final == "SUCCEEDED":
        assert "RUNNING" in statuses, statuses


async def drop_sockets(server: LiveServer, user_id: str) -> int:
    """Disconnect the user's sockets from the server side (as a restart or a deploy would)."""
    sio = server.container.web.socket_server()
    sids = [
        entry[0] if isinstance(entry, tuple) else entry
        for entry in sio.manager.get_participants("/", user_room(user_id))
    ]
    for sid in sids:
        await sio.disconnect(sid)
    return len(sids)


def csrf_of(tab: Tab) -> str:
    cookies = {c["name"]: c["value"] for c in tab.context.cookies()}
    return cookies["csrf-token"]


def unique_email(label: str) -> str:
    return f"{label}-{time.monotonic_ns()}@example.com"


def count(requests: list[str], line: str) -> int:
    return sum(1 for r in requests if r == line)


REGISTER_FROM_PAGE = """async ([email, name, password]) => {
    const { csrfToken } = await (await fetch('/api/csrf')).json();
    const response = await fetch('/api/auth/register', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken },
        body: JSON.stringify({ email, name, password, agreedToTerms: true }),
    });
    return { status: response.status, body: await response.json() };
}"""


def register_from_page(page: Page, email: str, name: str) -> None:
    """Sign up with a plain fetch from the page's JavaScript (as from devtools, or another page of
    the same origin): the playground's own code knows nothing of it."""
    answer = page.evaluate(REGISTER_FROM_PAGE, [email, name, PASSWORD])
    assert answer["status"] == 201, answer


def expect_signed_in(page: Page, name: str) -> None:
    expect(page.locator("#app-view")).to_be_visible()
    expect(page.locator("#auth-view")).to_be_hidden()
    expect(page.locator("#who")).to_have_text(name)
    expect(page.locator("#credits")).to_have_text("10 credits")
    expect(page.locator("#live")).to_have_attribute("data-state", "live")


def noisy_console(tab: Tab) -> list[tuple[str, str]]:
    return [(kind, text) for kind, text in tab.console_messages if kind in ("error", "warning")]


# ---------------------------------------------------------------- scenarios


def test_sign_up_generate_live_download_history_and_sign_out(servers: Servers, tabs: Tabs) -> None:
    server = servers()
    tab = tabs()
    page = tab.page

    headers = open_playground(tab, server)
    csp = headers["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "img-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"]
    # No request bound to fail on a first visit: the CSRF token, and who is signed in (nobody).
    expect(page.locator("#auth-view")).to_be_visible()
    assert sorted(r for r in tab.requests if "/api/" in r) == [
        "GET /api/auth/playground-session",
        "GET /api/csrf",
    ]

    sign_up(page, unique_email("ada"))
    expect(page.locator("#credits")).to_have_text("10 credits")
    # The socket is a websocket to this origin, allowed by `connect-src 'self'` (a violation
    # would show as a console error, checked at the end).
    assert tab.sockets and tab.sockets[0].startswith(server.url.replace("http", "ws", 1))

    first = submit(page, "A friendly robot watering a plant")
    second = submit(page, "A lighthouse at night", style="gradient")
    for job_id in (first, second):
        card = wait_status(page, job_id, "SUCCEEDED")
        width = wait_image(page, card.locator("img.job-image"))
        assert width > 0
        assert_live_sequence(tab, job_id)
        src = card.locator("img.job-image").get_attribute("src") or ""
        assert src.startswith(server.url + "/api/files/"), src
    assert tab.navigations == 1, "the page was reloaded"
    # Progress came by push only: no job was polled before its terminal update.
    polls = [r for r in tab.requests if r.startswith("GET /api/svg/generation-jobs/")]
    assert len(polls) == 2, polls
    expect(page.locator("#credits")).to_have_text("8 credits")

    # Model output never enters the page as markup: results are <img> of the stored file.
    assert page.locator("svg").count() == 0

    # History lists both, with their images.
    items = page.locator("#history .gallery-item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("A lighthouse at night")
    expect(items.nth(1)).to_contain_text("A friendly robot watering a plant")
    for i in range(2):
        assert wait_image(page, items.nth(i).locator("img")) > 0

    # Download from a job card: the sanitized SVG as stored.
    card = card_by_id(page, first)
    generation_id = card.get_attribute("data-generation-id")
    with page.expect_download() as info:
        card.get_by_role("button", name="Download SVG").click()
    download = info.value
    assert download.suggested_filename.endswith(".svg")
    content = Path(download.path()).read_text(encoding="utf-8")
    assert content.lstrip().startswith("<svg"), content[:80]
    source = page.request.get(f"{server.url}/api/svg/{generation_id}/source")
    assert source.ok
    assert content == source.json()["svg"]
    # ... and from the history.
    with page.expect_download() as info:
        items.nth(0).get_by_role("button", name="Download").click()
    assert Path(info.value.path()).read_text(encoding="utf-8").lstrip().startswith("<svg")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playground.png"))
    if os.environ.get("CHATSVG_UPDATE_DOCS_SCREENSHOT") == "1" or not DOCS_SCREENSHOT.exists():
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS_SCREENSHOT))

    # Reloading keeps the session (cookies only), then sign-out returns to the sign-in form.
    page.reload()
    expect(page.locator("#app-view")).to_be_visible()
    expect(page.locator("#history .gallery-item")).to_have_count(2)
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#auth-view")).to_be_visible()
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#app-view")).to_be_hidden()
    cookies = {c["name"] for c in tab.context.cookies()}
    assert "token" not in cookies and "refreshToken" not in cookies
    page.reload()
    expect(page.locator("#auth-view")).to_be_visible()

    # Nothing sensitive in web storage; no console error in the whole session.
    storage = page.evaluate("() => [localStorage.length, sessionStorage.length]")
    assert storage == [0, 0]
    assert tab.page_errors == []
    assert tab.unexpected_console_errors() == [], tab.error_responses


def test_another_person_sees_none_of_the_first_ones_jobs_or_events(
    servers: Servers, tabs: Tabs
) -> None:
    server = servers()
    alice, bob = tabs(), tabs()
    open_playground(alice, server)
    sign_up(alice.page, unique_email("alice"), name="Alice")
    open_playground(bob, server)
    sign_up(bob.page, unique_email("bob"), name="Bob")

    alice_jobs = [submit(alice.page, "Alice's private teapot")]
    wait_status(alice.page, alice_jobs[0], "SUCCEEDED")
    alice_jobs.append(submit(alice.page, "Alice's second secret"))
    wait_status(alice.page, alice_jobs[1], "SUCCEEDED")

    bob_job = submit(bob.page, "Bob's bicycle")
    wait_status(bob.page, bob_job, "SUCCEEDED")
    expect(bob.page.locator("#history .gallery-item")).to_have_count(1)
    expect(alice.page.locator("#history .gallery-item")).to_have_count(2)

    # Neither saw the other's events, jobs or generations.
    assert {u["jobId"] for u in bob.job_updates()} == {bob_job}
    assert {u["jobId"] for u in alice.job_updates()} == set(alice_jobs)
    expect(bob.page.locator("#jobs .job")).to_have_count(1)
    expect(bob.page.locator("#app-view")).not_to_contain_text("Alice's")
    expect(alice.page.locator("#app-view")).not_to_contain_text("Bob's")
    # And the API answers Bob about Alice's job as if it did not exist.
    peek = bob.page.request.get(f"{server.url}/api/svg/generation-jobs/{alice_jobs[0]}")
    assert peek.status == 404

    for tab in (alice, bob):
        assert tab.page_errors == []
        assert tab.unexpected_console_errors() == []


def test_the_page_keeps_working_across_access_token_expiry(servers: Servers, tabs: Tabs) -> None:
    server = servers(access_token_seconds=2)
    tab = tabs()
    page = tab.page
    open_playground(tab, server)
    sign_up(page, unique_email("expiry"))
    user_id = page.request.get(f"{server.url}/api/auth/current-user").json()["id"]
    first = submit(page, "Before the token expires")
    wait_status(page, first, "SUCCEEDED")

    page.wait_for_timeout(2_600)  # the access token (2 s) is now expired
    refreshes = count(tab.requests, "POST /api/auth/refresh")
    sockets = len(tab.sockets)
    second = submit(page, "After the token expired")
    wait_status(page, second, "SUCCEEDED")
    # One refresh, the request retried, and the socket reconnected with the new cookie: the new
    # job's updates arrived on the new connection.
    assert count(tab.requests, "POST /api/auth/refresh") == refreshes + 1
    assert len(tab.sockets) == sockets + 1
    new_socket = len(tab.sockets) - 1
    on_new = [
        d["status"]
        for i, n, d in tab.socket_events
        if i == new_socket and n == "generation-job:update"
    ]
    assert "SUCCEEDED" in on_new, tab.socket_events
    assert_live_sequence(tab, second)
    # The retry reused its idempotency key: one job per submission.
    expect(page.locator("#history .gallery-item")).to_have_count(2)
    expect(page.locator("#jobs .job")).to_have_count(2)

    # The server drops the socket while the token is expired: the handshake is refused until
    # the page refreshes (once) and reconnects with the new cookie.
    page.wait_for_timeout(2_600)
    refreshes = count(tab.requests, "POST /api/auth/refresh")
    sockets = len(tab.sockets)
    assert server.call(drop_sockets(server, user_id)) == 1
    # The page may still show "live" until it notices the drop: wait for the new connection
    # before looking at the indicator.
    deadline = time.monotonic() + 15
    while len(tab.sockets) < sockets + 1 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(tab.sockets) >= sockets + 1
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    assert count(tab.requests, "POST /api/auth/refresh") == refreshes + 1
    third = submit(page, "After the socket was dropped")
    wait_status(page, third, "SUCCEEDED")
    newest = len(tab.sockets) - 1
    assert any(
        i == newest and n == "generation-job:update" and d["jobId"] == third
        for i, n, d in tab.socket_events
    )

    # An expired token on a plain GET (history) and on a page load: refreshed, not signed out.
    page.wait_for_timeout(2_600)
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#history .gallery-item")).to_have_count(3)
    page.wait_for_timeout(2_600)
    page.reload()
    expect(page.locator("#app-view")).to_be_visible()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    fourth = submit(page, "After a reload")
    wait_status(page, fourth, "SUCCEEDED")
    expect(page.locator("#credits")).to_have_text("6 credits")

    assert tab.page_errors == []
    # The only console lines are the browser's notes of the 401s that triggered the refreshes.
    assert tab.unexpected_console_errors(allowed_statuses=(401,)) == []


def test_a_session_signed_in_by_a_fetch_on_the_same_origin_is_shown(
    servers: Servers, tabs: Tabs
) -> None:
    server = servers()
    tab = tabs()
    page = tab.page
    open_playground(tab, server)
    expect(page.locator("#auth-view")).to_be_visible()
    register_from_page(page, unique_email("devtools"), "Devtools Dana")

    open_playground(tab, server)
    expect_signed_in(page, "Devtools Dana")
    # Another tab of the same browser is signed in as well.
    other = tab.context.new_page()
    other.goto(server.url + "/")
    expect_signed_in(other, "Devtools Dana")

    assert tab.page_errors == []
    assert tab.error_responses == []
    assert noisy_console(tab) == []


def test_session_cookies_set_outside_the_browser_page_are_picked_up(
    servers: Servers, tabs: Tabs
) -> None:
    """As after an OAuth return: the cookies come from a response the page never saw."""
    server = servers()
    with httpx.Client(base_url=server.url) as http:
        csrf = http.get("/api/csrf").json()["csrfToken"]
        answer = http.post(
            "/api/auth/register",
            json={
                "email": unique_email("outside"),
                "name": "Outside Olga",
                "password": PASSWORD,
                "agreedToTerms": True,
            },
            headers={"X-CSRF-Token": csrf},
        )
        assert answer.status_code == 201, answer.text
        jar = list(http.cookies.jar)
    assert {c.name for c in jar} == {"csrf-token", "token", "refreshToken"}
    tab = tabs()
    tab.context.add_cookies(
        [
            {
                "name": c.name,
                "value": c.value or "",
                "domain": "127.0.0.1",
                "path": c.path,
                "httpOnly": c.has_nonstandard_attr("HttpOnly"),
                "sameSite": "Strict" if c.name == "refreshToken" else "Lax",
            }
            for c in jar
        ]
    )
    open_playground(tab, server)
    expect_signed_in(tab.page, "Outside Olga")
    assert count(tab.requests, "POST /api/auth/refresh") == 0

    assert tab.page_errors == []
    assert tab.error_responses == []
    assert noisy_console(tab) == []


def test_a_signed_out_first_visit_shows_the_sign_in_form_and_logs_nothing(
    servers: Servers, tabs: Tabs
) -> None:
    server = servers()
    tab = tabs()
    page = tab.page
    open_playground(tab, server)
    expect(page.locator("#auth-view")).to_be_visible()
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#app-view")).to_be_hidden()
    page.wait_for_load_state("networkidle")
    # No request bound to fail: the browser has nothing to report.
    assert tab.error_responses == []
    assert count(tab.requests, "GET /api/auth/current-user") == 0
    assert count(tab.requests, "POST /api/auth/refresh") == 0
    assert tab.page_errors == []
    assert noisy_console(tab) == []


def test_an_expired_access_token_with_a_live_refresh_cookie_ends_signed_in(
    servers: Servers, tabs: Tabs
) -> None:
    server = servers()
    tab = tabs()
    page = tab.page
    open_playground(tab, server)
    register_from_page(page, unique_email("refresh"), "Refreshed Rita")
    # The access cookie is gone (it lives as long as the access token), the refresh cookie is not.
    tab.context.clear_cookies(name="token")
    assert {c["name"] for c in tab.context.cookies()} == {"csrf-token", "refreshToken"}

    open_playground(tab, server)
    expect_signed_in(page, "Refreshed Rita")
    assert count(tab.requests, "POST /api/auth/refresh") == 1
    assert "token" in {c["name"] for c in tab.context.cookies()}
    # The refresh was asked for up front: no 401 on the way.
    assert tab.error_responses == []
    assert tab.page_errors == []
    assert noisy_console(tab) == []


def test_a_history_reload_still_pending_at_sign_out_is_dropped(
    servers: Servers, tabs: Tabs
) -> None:
    """When the socket connects, the server replays the jobs that ended in the last minutes; the
    page then reloads its history after a short debounce. A sign-out inside that window must not
    let the reload go out afterwards (a 401, then a refresh bound to fail)."""
    server = servers()
    tab = tabs()
    page = tab.page
    open_playground(tab, server)
    sign_up(page, unique_email("pending"))
    job = submit(page, "Finished just before a reload")
    wait_status(page, job, "SUCCEEDED")

    # From the reload on, the page's timers run only when the test lets them.
    page.clock.install()
    page.clock.pause_at(time.time() + 3600)
    page.reload()
    expect(page.locator("#app-view")).to_be_visible()
    card = wait_status(page, job, "SUCCEEDED")  # the replayed update
    wait_image(page, card.locator("img.job-image"))  # finished: the history reload is now due
    expect(page.locator("#history .gallery-item")).to_have_count(1)
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#auth-view")).to_be_visible()
    signed_out_at = len(tab.requests)

    page.clock.run_for(5_000)
    page.wait_for_timeout(300)  # (real time) for a request that would go out
    assert [r for r in tab.requests[signed_out_at:] if "/api/" in r] == []
    assert tab.error_responses == []
    assert tab.page_errors == []
    assert noisy_console(tab) == []


def test_nothing_of_the_session_is_sent_while_its_sign_out_is_under_way(
    servers: Servers, tabs: Tabs
) -> None:
    server = servers()
    tab = tabs()
    page = tab.page
    open_playground(tab, server)
    sign_up(page, unique_email("leaving"))
    expect(page.locator("#history-empty")).to_be_visible()

    # The server signs out at once; the page learns it only when the test lets the answer through.
    held: list[tuple[Route, APIResponse]] = []
    page.route("**/api/auth/logout", lambda route: held.append((route, route.fetch())))
    page.get_by_role("button", name="Log out").click()
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the sign-out was not sent"
    asked_at = len(tab.requests)
    page.get_by_role("button", name="Refresh").click()  # the history's, still on screen
    page.wait_for_timeout(300)
    route, answer = held[0]
    route.fulfill(response=answer)
    expect(page.locator("#auth-view")).to_be_visible()
    page.wait_for_timeout(300)

    # The history was not asked for (it would have been a 401, then a refresh bound to fail).
    assert [r for r in tab.requests[asked_at:] if "/api/" in r] == []
    assert tab.error_responses == []
    assert tab.page_errors == []
    assert noisy_console(tab) == []


def test_validation_credits_rate_limit_and_cancel_messages(servers: Servers, tabs: Tabs) -> None:
    server = servers(
        start_credits=2, worker_concurrency=1, offline_delay_seconds=3, rate_generate="5/60"
    )
    tab = tabs()
    page = tab.page
    error = page.locator("#compose-error")
    open_playground(tab, server)
    sign_up(page, unique_email("limits"))
    expect(page.locator("#credits")).to_have_text("2 credits")

    # 1. A blank prompt passes the browser's `required` but not the server: a validation message.
    page.locator("#prompt").fill("   ")
    page.locator("#generate").click()
    expect(error).to_be_visible()
    expect(error).to_contain_text("prompt", ignore_case=True)

    # 2-3. One job runs (3 s, one worker), the next waits in the queue.
    running = submit(page, "The running one")
    wait_status(page, running, "RUNNING")
    queued = submit(page, "The queued one")
    queued_card = wait_status(page, queued, "QUEUED")
    expect(error).to_be_hidden()

    # 4. Both credits are spoken for: 402 with a clear message.
    page.locator("#prompt").fill("One too many")
    page.locator("#generate").click()
    expect(error).to_contain_text("Not enough credits")
    expect(page.locator("#jobs .job")).to_have_count(2)

    # Cancel the queued job: it fails as CANCELED with a readable message.
    queued_card.get_by_role("button", name="Cancel").click()
    wait_status(page, queued, "FAILED")
    expect(queued_card.locator(".job-error")).to_have_text("Canceled. No credit was used.")
    expect(queued_card.get_by_role("button", name="Cancel")).to_be_hidden()

    # 5. The freed credit allows one more; 6. then the rate limit answers 429 with Retry-After.
    last = submit(page, "The last one")
    page.locator("#prompt").fill("Too fast")
    page.locator("#generate").click()
    expect(error).to_contain_text("Too many requests. Try again in")
    expect(page.locator("#generate")).to_be_disabled()
    expect(page.locator("#generate")).to_contain_text("Try again in")

    wait_status(page, running, "SUCCEEDED", timeout=20_000)
    wait_status(page, last, "SUCCEEDED", timeout=20_000)
    expect(page.locator("#credits")).to_have_text("0 credits")
    assert_live_sequence(tab, queued, final="FAILED")

    assert tab.page_errors == []
    assert tab.unexpected_console_errors(allowed_statuses=(400, 402, 429)) == []


def test_history_pages_and_jobs_submitted_elsewhere_show_up_live(
    servers: Servers, tabs: Tabs
) -> None:
    server = servers()
    tab = tabs()
    page = tab.page
    open_playground(tab, server)
    sign_up(page, unique_email("pages"))

    # Nine jobs submitted outside this page (as from another tab): they appear and finish live.
    job_ids: list[str] = []
    for i in range(9):
        answer = page.request.post(
            f"{server.url}/api/svg/generate-svg",
            data={"prompt": f"Picture number {i}", "style": "flat"},
            headers={"X-CSRF-Token": csrf_of(tab)},
        )
        assert answer.status == 202, answer.text()
        job_ids.append(answer.json()["job"]["id"])
    for job_id in job_ids:
        card = wait_status(page, job_id, "SUCCEEDED")
        wait_image(page, card.locator("img.job-image"))
    page.wait_for_timeout(500)  # the history reloads (debounced) after the last success
    expect(page.locator("#credits")).to_have_text("1 credit")

    items = page.locator("#history .gallery-item")
    expect(items).to_have_count(8)
    more = page.get_by_role("button", name="Load more")
    expect(more).to_be_visible()
    more.click()
    expect(items).to_have_count(9)
    expect(more).to_be_hidden()
    prompts = [items.nth(i).locator(".gallery-prompt").inner_text() for i in range(9)]
    assert prompts == [f"Picture number {i}" for i in reversed(range(9))]

    assert tab.page_errors == []
    assert tab.unexpected_console_errors() == []


def test_assets_are_served_under_one_static_path_with_safe_headers(
    servers: Servers, tabs: Tabs
) -> None:
    server = servers()
    tab = tabs()
    open_playground(tab, server)
    expect(tab.page.locator("#auth-view")).to_be_visible()
    assets = {r.split(" ", 1)[1] for r in tab.requests if r.startswith("GET /playground/")}
    assert {"/playground/app.js", "/playground/styles.css"} <= assets
    assert "/playground/vendor/socket.io.esm.min.js" in assets
    for path in ("/playground/app.js", "/playground/vendor/socket.io.esm.min.js"):
        response = tab.page.request.get(server.url + path)
        assert response.ok
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "javascript" in response.headers["content-type"]
    missing = tab.page.request.get(server.url + "/playground/nope.js")
    assert missing.status == 404


def test_the_playground_is_off_when_configured_off(servers: Servers, tabs: Tabs) -> None:
    server = servers(playground=False)
    tab = tabs()
    response = tab.page.goto(server.url + "/")
    assert response is not None and response.status == 404
    assert tab.page.request.get(server.url + "/playground/app.js").status == 404
    assert tab.page.request.get(server.url + "/api/auth/playground-session").status == 404
    assert tab.page.request.get(server.url + "/api/csrf").ok
