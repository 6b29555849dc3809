"""The playground's "Plan" panel in Chromium: the plan and its limits; with PayPal billing on
(the fake PayPal server), Subscribe → approve at "PayPal" → Supporter, then Cancel → Free; with
billing off, no Subscribe button and no request that fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatsvg.entrypoints.fake_paypal import FakePayPal, FakePayPalState
from tests.e2e.conftest import local_settings
from tests.support.live import free_port, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def sign_up(page: Any, url: str, email: str) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(url + "/")
    page.get_by_role("tab", name="Create account").click()
    form = page.locator("#register-form")
    form.get_by_label("Name").fill("Plan")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill("correct horse battery")
    form.get_by_label("I agree to the terms of service").check()
    form.get_by_role("button", name="Create account").click()
    return problems


def test_subscribe_and_cancel_from_the_playground(browser: Any, tmp_path: Any) -> None:
    fake = FakePayPal(FakePayPalState()).start()
    port = free_port()
    fake.state.webhook_url = f"http://127.0.0.1:{port}/api/paypal/webhook"
    settings = local_settings(
        tmp_path,
        public_url=f"http://127.0.0.1:{port}",
        paypal_client_id=fake.state.client_id,
        paypal_client_secret=fake.state.client_secret,
        paypal_base_url=fake.url,
        paypal_webhook_id=fake.state.webhook_id,
        paypal_supporter_plan_id=fake.state.plan_id,
        paypal_return_url=f"{fake.url}/fake/events",  # a page that exists: the popup lands there
    )
    live = start_server(settings, port)
    context = browser.new_context()
    try:
        page = context.new_page()
        problems = sign_up(page, live.url, "subscriber@example.com")
        card = page.locator("#plan-card")
        card.get_by_text("Free", exact=True).wait_for()
        card.get_by_text("No PayPal subscription.").wait_for()
        with context.expect_page() as popup:
            card.get_by_role("button", name="Subscribe (PayPal)").click()
        popup.value.wait_for_load_state()
        card.get_by_text("Supporter · $5/month").wait_for(timeout=20_000)
        page.get_by_test_id("credits").get_by_text("310 credits").wait_for()
        card.get_by_role("button", name="Cancel subscription").click()
        card.get_by_text("Free", exact=True).wait_for(timeout=20_000)
        assert card.get_by_role("button", name="Subscribe (PayPal)").is_visible()
        assert problems == []
    finally:
        context.close()
        live.stop()
        fake.stop()


def test_without_billing_the_panel_shows_the_plan_only(browser: Any, tmp_path: Any) -> None:
    port = free_port()
    live = start_server(local_settings(tmp_path, public_url=f"http://127.0.0.1:{port}"), port)
    context = browser.new_context()
    try:
        page = context.new_page()
        problems = sign_up(page, live.url, "free@example.com")
        card = page.locator("#plan-card")
        card.get_by_text("PayPal billing is not enabled on this server.").wait_for()
        assert card.get_by_text("Free", exact=True).is_visible()
        assert "30 generations per 30-day window" in card.inner_text()
        assert not card.get_by_role("button", name="Subscribe (PayPal)").is_visible()
        assert problems == []
    finally:
        context.close()
        live.stop()
