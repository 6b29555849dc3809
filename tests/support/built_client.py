"""The real, built web client (svg-saas-client) served beside our API, for Chromium tests of its
pages. It is not in this repository (CI cannot fetch it): the tests that use it skip when it is
absent. Built with VITE_API_BASE_URL=http://localhost:4000/api, so the API runs on localhost:4000
and the client on localhost:5173 — the ports /work/notes/run-client-spec.sh uses; one lock keeps
one user of them at a time.

A test module uses it with `pytestmark = NEEDS_BUILT_CLIENT`, a module fixture around
`serving_built_client()`, and its API started on `API_PORT` with `web_origins=(WEB,)`.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

DIST = Path(os.environ.get("CHATSVG_WEBCLIENT_DIST", "/work/webclient/dist"))
CHROMIUM = Path("/usr/bin/chromium")
API_PORT, WEB_PORT = 4000, 5173
API, WEB = f"http://localhost:{API_PORT}", f"http://localhost:{WEB_PORT}"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

NEEDS_BUILT_CLIENT = [
    pytest.mark.browser,
    pytest.mark.skipif(not (DIST / "index.html").exists(), reason="the web client is not built"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


class _SpaHandler(SimpleHTTPRequestHandler):
    """The built client; any path that is not a file is the app's index.html (client routes)."""

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if not path.exists():
            self.path = "/index.html"
        return super().send_head()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextlib.contextmanager
def serving_built_client() -> Iterator[str]:
    """Hold the ports' lock and serve the built client on WEB_PORT; yields its origin. Start the
    API (on API_PORT) inside it."""
    with open("/tmp/client-spec.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        handler = functools.partial(_SpaHandler, directory=str(DIST))
        server = ThreadingHTTPServer(("127.0.0.1", WEB_PORT), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield WEB
        finally:
            server.shutdown()
            server.server_close()


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def api_on_client_port(settings: Any) -> Iterator[Any]:
    """Our API, with `settings`, on API_PORT (where the built client calls it)."""
    from tests.support.live import start_server

    live = start_server(settings, API_PORT)
    try:
        yield live
    finally:
        live.stop()
