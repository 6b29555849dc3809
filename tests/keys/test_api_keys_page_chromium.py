"""The web client's /api-keys page (the real, built client) against our API, in Chromium: create a
key (shown once, copied), the list shows it with its scopes and usage, its stats open, revoking it
removes it and it stops working.

The client in /work/webclient/dist (or CHATSVG_WEBCLIENT_DIST) is built with
VITE_API_BASE_URL=http://localhost:4000/api, so the API runs on localhost:4000 and the client on
localhost:5173 (the ports run-client-spec.sh uses; the same lock keeps one user of them at a time).
Skipped when the built client or Chromium is absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import local_settings
from tests.support.built_client import (
    API,
    NEEDS_BUILT_CLIENT,
    WEB,
    api_on_client_port,
)
from tests.support.live import LiveServer

pytestmark = NEEDS_BUILT_CLIENT


@pytest.fixture(scope="module")
def api(client_site: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = local_settings(
        tmp_path_factory.mktemp("keys-page"), public_url=API, web_origins=(WEB,)
    )
    with api_on_client_port(settings) as live:
        yield live


def register_in_page(page: Any, email: str) -> None:
    """Sign up through the page's origin (its cookies), as the client's sign-up form would."""
    page.evaluate(
        """async ([api, email]) => {
            const csrf = (await (await fetch(api + '/api/csrf', {credentials: 'include'})).json()).csrfToken
            const r = await fetch(api + '/api/auth/register', {
                method: 'POST', credentials: 'include',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
                body: JSON.stringify({email, password: 'correct horse', name: 'Keys',
                                      agreedToTerms: true}),
            })
            if (!r.ok) throw new Error('register: ' + r.status)
        }""",
        [API, email],
    )


def test_create_copy_list_stats_and_revoke_a_key_on_the_api_keys_page(client_browser: Any) -> None:
    context = client_browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{WEB}/")
    register_in_page(page, "keys-page@example.com")

    page.goto(f"{WEB}/api-keys")
    page.get_by_role("heading", name="API Keys").wait_for()
    page.get_by_text("No API keys yet").wait_for()

    # Create: the key is shown once, and the Copy button puts it on the clipboard.
    page.get_by_role("button", name="Create key").first.click()
    page.get_by_role("heading", name="Create new API key").wait_for()
    page.get_by_placeholder("e.g. Production App").fill("Browser key")
    page.get_by_placeholder("Optional description").fill("made in Chromium")
    page.locator("form button[type=submit]").click()
    page.get_by_role("heading", name="API key created").wait_for()
    key = page.locator("code.select-all").inner_text().strip()
    assert re.fullmatch(r"sk_live_[A-Za-z0-9_-]{32,}", key), key
    page.get_by_role("button", name="Copy").click()
    page.get_by_role("button", name="Copied!").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == key
    page.get_by_role("button", name="Done").click()
    page.get_by_role("heading", name="API key created").wait_for(state="detached")
    assert key not in page.content()  # shown once: never again on the page

    # The list: name, prefix, environment, scopes, usage.
    row = page.locator("tbody tr").filter(has_text="Browser key")
    row.wait_for()
    text = row.inner_text()
    assert key[:16] in text and "production" in text
    assert "generate:svg" in text and "read:generation" in text
    assert "0 requests" in text and "Never" in text

    # Use the key through /v1: the page shows the usage after a reload.
    with httpx.Client(base_url=API, headers={"X-API-Key": key}, timeout=30) as http:
        assert http.post("/v1/svg/generate", json={"prompt": "a fox"}).status_code == 202
        assert http.get("/v1/svg/job/unknown").status_code == 404
    page.reload()
    row = page.locator("tbody tr").filter(has_text="Browser key")
    row.get_by_text("2 requests").wait_for()
    summary = page.locator("div.grid").first.inner_text()
    assert "Total requests" in summary and "2" in summary and "50.0%" in summary

    # Stats open in a popover.
    row.get_by_role("button", name="View stats").click()
    page.get_by_role("heading", name="Usage stats").wait_for()
    page.locator("div.max-w-sm span", has_text="Success rate").wait_for()
    stats = page.locator("div.max-w-sm").inner_text()
    assert "Total requests" in stats and "50.0%" in stats, stats
    page.keyboard.press("Escape")
    page.get_by_role("heading", name="Usage stats").wait_for(state="detached")

    # Revoke: confirm, the key leaves the list, and it stops working at once.
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("button", name="Revoke key").click()
    page.get_by_text("No API keys yet").wait_for()
    with httpx.Client(base_url=API, headers={"X-API-Key": key}, timeout=30) as http:
        refused = http.get("/v1/svg/job/unknown")
    assert (refused.status_code, refused.json()["errorCode"]) == (401, "API_KEY_INVALID")
    assert not errors, errors
    context.close()
