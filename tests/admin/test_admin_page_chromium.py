"""The web client's /admin page (the real, built client) against our API, in Chromium.

The client in /work/webclient/dist is built with VITE_API_BASE_URL=http://localhost:4000/api, so
the API runs on localhost:4000 and the client on localhost:5173 (the ports run-client-spec.sh
uses; the same lock keeps one user of them at a time). Skipped when the built client is absent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chatsvg.adapters.mail.mailers import LocalOutboxDirectory
from tests.e2e.conftest import local_settings
from tests.support.built_client import (
    API,
    NEEDS_BUILT_CLIENT,
    WEB,
    api_on_client_port,
)
from tests.support.live import LiveServer

ADMIN = "boss@example.com"
pytestmark = NEEDS_BUILT_CLIENT


@pytest.fixture(scope="module")
def api(client_site: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = local_settings(
        tmp_path_factory.mktemp("admin-page"),
        public_url=API,
        web_origins=(WEB,),
        admin_emails=ADMIN,
        admin_metrics_cache_seconds=0,
    )
    with api_on_client_port(settings) as live:
        yield live


def one_generation(email: str) -> None:
    """A user and a finished job, so that every figure has something to count."""
    with httpx.Client(base_url=API, headers={"Origin": WEB}, timeout=30) as http:
        csrf = {"X-CSRF-Token": http.get("/api/csrf").json()["csrfToken"]}
        body = {"email": email, "password": "correct horse", "name": "Ada", "agreedToTerms": True}
        assert http.post("/api/auth/register", json=body, headers=csrf).status_code in (200, 201)
        submitted = http.post("/api/svg/generate-svg", json={"prompt": "a fox"}, headers=csrf)
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["job"]["id"]
        for _ in range(200):
            job = http.get(f"/api/svg/generation-jobs/{job_id}").json()["job"]
            if job["status"] == "SUCCEEDED":
                assert job["usage"]["model"] == "offline"
                return
            time.sleep(0.05)
    raise AssertionError("the job did not finish")


def mailed_link(api: LiveServer) -> str:
    outbox = LocalOutboxDirectory(api.settings.data_path / "outbox")
    for _ in range(200):
        for mail in outbox.mails():
            if mail.to == ADMIN:
                text = mail.part("plain") or ""
                return next(line for line in text.splitlines() if "/api/admin/auth?token=" in line)
        time.sleep(0.05)
    raise AssertionError("no sign-in mail in the outbox")


def metric_values(page: Any) -> list[str]:
    cells = page.locator("td.font-mono, div.text-2xl").all_inner_texts()
    return [c.strip() for c in cells]


def test_an_admin_signs_in_with_the_mailed_link_sees_the_metrics_and_logs_out(
    client_browser: Any, api: LiveServer
) -> None:
    one_generation("maker@example.com")
    context = client_browser.new_context()
    page = context.new_page()
    page.goto(f"{WEB}/admin")
    page.get_by_role("heading", name="Admin Access").wait_for()

    answers = []
    for address in ("nobody@example.com", ADMIN):
        page.fill("#email", address)
        page.get_by_role("button", name="Request Access").click()
        notice = page.locator("div.bg-green-50")
        notice.wait_for()
        answers.append(notice.inner_text())
    assert answers[0] == answers[1] and "link" in answers[0]

    page.goto(mailed_link(api))
    page.wait_for_url(f"{WEB}/admin")
    page.get_by_role("heading", name="System Metrics").wait_for()
    values = metric_values(page)
    # 9 AI figures, 4 status tiles + 4 job figures, 2 activity tiles, 1 top generator's count.
    assert len(values) >= 20, values
    assert all(v and "NaN" not in v and "undefined" not in v for v in values), values
    assert "1" in values  # one job, one active user, one generation
    assert page.locator("text=$").count() >= 1

    page.get_by_role("button", name="Refresh").click()
    page.get_by_role("button", name="Refresh").wait_for()
    assert all(v and "NaN" not in v for v in metric_values(page))

    page.get_by_role("button", name="Logout").click()
    page.get_by_text("Logged out successfully").wait_for()
    assert not [c for c in context.cookies() if c["name"] == "admin_session"]
    page.reload()
    page.get_by_role("heading", name="Admin Access").wait_for()
    context.close()


def test_an_ordinary_user_sees_access_denied_and_a_used_link_is_refused(
    client_browser: Any, api: LiveServer
) -> None:
    context = client_browser.new_context()
    page = context.new_page()
    page.goto(f"{WEB}/")
    # Signed in as an ordinary user, through the page (its cookies, its origin).
    page.evaluate(
        """async (api) => {
            const csrf = (await (await fetch(api + '/api/csrf', {credentials: 'include'})).json()).csrfToken
            const r = await fetch(api + '/api/auth/register', {
                method: 'POST', credentials: 'include',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
                body: JSON.stringify({email: 'plain@example.com', password: 'correct horse',
                                      name: 'Plain', agreedToTerms: true}),
            })
            if (!r.ok) throw new Error('register: ' + r.status)
        }""",
        API,
    )
    page.goto(f"{WEB}/admin")
    page.get_by_role("heading", name="Access Denied").wait_for()

    # The admin's link from the first test was spent: opening it again signs nobody in.
    spent = page.goto(mailed_link(api))
    assert spent is not None and spent.status == 400
    assert not [c for c in context.cookies() if c["name"] == "admin_session"]
    context.close()
