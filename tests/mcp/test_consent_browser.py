"""The consent flow in Debian's Chromium: a signed-out visitor is sent through the sign-in page,
comes back to the consent page, allows, and the browser lands on the assistant's loopback
redirect with a code that the token endpoint accepts. The pages' CSP (no script, form posts only
here, the redirect only to the client's host) must not get in the way."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from chatsvg.domain.authorization.grants import s256
from tests.support.live import LiveServer, free_port

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

pytestmark = pytest.mark.browser
VERIFIER = "b" * 64
PASSWORD = "correct horse"


@pytest.fixture
def callback() -> Iterator[tuple[str, list[str]]]:
    """The assistant's loopback redirect: records what the browser brings back."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = b"<!doctype html><title>done</title>You can close this tab."
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            return None

    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/callback", hits
    httpd.shutdown()


def test_sign_in_consent_and_back_to_the_assistant_in_chromium(
    server: LiveServer, callback: tuple[str, list[str]]
) -> None:
    redirect, hits = callback
    email = f"dora-{uuid.uuid4().hex[:8]}@example.com"
    with httpx.Client(base_url=server.url) as http:
        csrf = http.get("/api/csrf").json()["csrfToken"]
        made = http.post(
            "/api/auth/register",
            json={"email": email, "password": PASSWORD, "name": "Dora", "agreedToTerms": True},
            headers={"X-CSRF-Token": csrf},
        )
        assert made.status_code == 201
        client_id = http.post(
            "/oauth/register", json={"client_name": "Claude Desktop", "redirect_uris": [redirect]}
        ).json()["client_id"]
    query = {
        "client_id": client_id,
        "redirect_uri": redirect,
        "response_type": "code",
        "state": "chromium-state",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
        "scope": "generate:svg read:generation",
    }
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_context().new_page()
            page.set_default_timeout(10_000)
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.goto(f"{server.url}/oauth/authorize?{urlencode(query)}")
            assert page.url.startswith(f"{server.url}/oauth/sign-in")
            page.fill("#email", email)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.url}/oauth/authorize?**")
            text = page.inner_text("body")
            assert "Claude Desktop" in text and urlsplit(redirect).netloc in text
            assert email in text
            page.click("button[value=approve]")
            deadline = time.monotonic() + 10
            while not hits and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            browser.close()
    assert hits, f"the browser never reached the redirect URI; console: {console}"
    answer = dict(parse_qsl(urlsplit(hits[0]).query))
    assert answer["state"] == "chromium-state" and answer["iss"] == server.url
    assert not [c for c in console if "Content Security Policy" in c], console
    with httpx.Client(base_url=server.url) as http:
        issued = http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": answer["code"],
                "client_id": client_id,
                "redirect_uri": redirect,
                "code_verifier": VERIFIER,
            },
        )
    assert issued.status_code == 200, issued.text
