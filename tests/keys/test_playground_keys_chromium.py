"""The playground's "API keys" panel in Chromium against the real server: create a key (shown
once, copied), use it on /v1, see its usage and figures, revoke it (and it stops working)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import local_settings
from tests.support.live import LiveServer, free_port, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    port = free_port()
    settings = local_settings(
        tmp_path_factory.mktemp("playground-keys"), public_url=f"http://127.0.0.1:{port}"
    )
    live = start_server(settings, port)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser(api: LiveServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def test_the_playground_keys_panel_creates_lists_and_revokes(browser: Any, api: LiveServer) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(api.url + "/")
    page.get_by_role("tab", name="Create account").click()
    form = page.locator("#register-form")
    form.get_by_label("Name").fill("Keys")
    form.get_by_label("Email").fill("panel@example.com")
    form.get_by_label("Password").fill("correct horse battery")
    form.get_by_label("I agree to the terms of service").check()
    form.get_by_role("button", name="Create account").click()

    card = page.locator("#keys-card")
    card.get_by_text("No API keys yet.").wait_for()
    card.get_by_label("Key name").fill("Panel key")
    card.get_by_role("button", name="Create key").click()
    secret = page.locator("#key-secret")
    secret.wait_for()
    key = secret.inner_text().strip()
    assert re.fullmatch(r"sk_live_[A-Za-z0-9_-]{32,}", key), key
    card.get_by_role("button", name="Copy").click()
    card.get_by_role("button", name="Copied!").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == key
    item = card.locator("li.key").filter(has_text="Panel key")
    item.wait_for()
    assert "generate:svg, read:generation" in item.inner_text()
    assert key not in item.inner_text() and key[:16] in item.inner_text()
    card.get_by_role("button", name="Done").click()
    assert page.locator("#key-reveal").is_hidden() and key not in page.content()

    with httpx.Client(base_url=api.url, headers={"X-API-Key": key}, timeout=30) as http:
        assert http.post("/v1/svg/generate", json={"prompt": "a fox"}).status_code == 202
    page.reload()
    item = page.locator("#keys-card li.key").filter(has_text="Panel key")
    item.get_by_text("1 request", exact=False).wait_for()
    item.get_by_role("button", name="Stats").click()
    stats = item.locator(".key-stats")
    stats.wait_for()
    assert stats.inner_text() == "1 request: 1 succeeded, 0 failed (100.0%), 1 credit used."
    assert "All keys: 1 request" in page.locator("#keys-summary").inner_text()

    item.get_by_role("button", name="Revoke").click()
    item.get_by_role("button", name="Confirm revoke").click()
    page.locator("#keys-card").get_by_text("No API keys yet.").wait_for()
    with httpx.Client(base_url=api.url, headers={"X-API-Key": key}, timeout=30) as http:
        assert http.get("/v1/svg/job/none").status_code == 401
    assert not problems, problems
    context.close()
