"""The playground (local mode) shows an "Admin" link to the web app's admin page when the
signed-in address is an admin's, and none otherwise (Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import local_settings
from tests.support.live import LiveServer, free_port, start_server

CHROMIUM = Path("/usr/bin/chromium")
WEB = "http://localhost:5173"
ADMIN = "boss@example.com"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    port = free_port()
    settings = local_settings(
        tmp_path_factory.mktemp("playground-admin"),
        public_url=f"http://127.0.0.1:{port}",
        web_origins=(WEB,),
        admin_emails=ADMIN,
    )
    live = start_server(settings, port)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--headless", "--no-sandbox"]
        )
        yield browser
        browser.close()


def sign_up(page: Any, email: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Create account").click()
    form = page.locator("#register-form")
    form.get_by_label("Name").fill("Ada")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill("correct horse battery")
    form.get_by_label("I agree to the terms of service").check()
    form.get_by_role("button", name="Create account").click()
    expect(page.locator("#app-view")).to_be_visible()


def test_the_admin_link_shows_for_an_admin_only(chromium: Any, server: LiveServer) -> None:
    from playwright.sync_api import expect

    context = chromium.new_context()
    page = context.new_page()
    page.goto(server.url + "/")
    sign_up(page, ADMIN)
    link = page.locator("#admin-link")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", f"{WEB}/admin")
    page.reload()  # signed in from the session cookie, not the form
    expect(link).to_be_visible()
    page.locator("#logout").click()
    expect(page.locator("#auth-view")).to_be_visible()
    expect(link).to_be_hidden()
    context.close()

    context = chromium.new_context()
    page = context.new_page()
    page.goto(server.url + "/")
    sign_up(page, "plain@example.com")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#admin-link")).to_be_hidden()
    context.close()
