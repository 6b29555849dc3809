"""The browser suite's fixtures: the real API on one origin, the test page on another, Chromium.

Three origins, all on 127.0.0.1 (SameSite cookies follow the site, so page and API must share the
host name; only the ports differ):

- the API, a real embedded server (`tests.support.live.start_server`) whose web-origin list holds
  the page origin only;
- the page origin, a tiny static HTTP server for `pages/` (the web-client stand-in);
- a hostile origin, the same static server on a third port, absent from the list.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import local_settings
from tests.support.live import LiveServer, free_port, start_server

CHROMIUM = Path("/usr/bin/chromium")
PAGES = Path(__file__).parent / "pages"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PASSWORD = "correct horse battery"
# The real client connects its socket only after the submit answers and listens from then on, so
# a job that ends before the socket is up is never seen (it waits for its 120 s timeout). The
# offline generator's delay keeps every job alive well past the socket's connection.
OFFLINE_DELAY = 0.8


class _PageHandler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".html": "text/html",
    }

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@dataclass
class StaticSite:
    """`pages/` over HTTP on its own port of 127.0.0.1: one web origin."""

    server: ThreadingHTTPServer
    thread: threading.Thread

    @classmethod
    def start(cls) -> StaticSite:
        handler = functools.partial(_PageHandler, directory=str(PAGES))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        return cls(server, thread)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def other_site_origin(self) -> str:
        """The same server by the name `localhost`: same machine, another site than 127.0.0.1."""
        return f"http://localhost:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@dataclass
class Sites:
    web: StaticSite
    hostile: StaticSite


@dataclass
class Seen:
    """What the browser put on the wire, as Playwright reports it (preflights are not listed)."""

    method: str
    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


class ClientPage:
    """One tab of the test page, driven through `window.chat` (see pages/client.js)."""

    def __init__(self, page: Any, api: LiveServer) -> None:
        self.page = page
        self.api = api
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[Seen] = []
        self.responses: list[Seen] = []
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("dialog", self._on_dialog)
        page.on("request", self._on_request)
        page.on("response", self._on_response)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(str(dialog.message))
        dialog.dismiss()

    def _on_request(self, request: Any) -> None:
        self.requests.append(Seen(request.method, request.url, None, dict(request.headers)))

    def _on_response(self, response: Any) -> None:
        self.responses.append(
            Seen(response.request.method, response.url, response.status, dict(response.headers))
        )

    def open(self, origin: str) -> ClientPage:
        self.page.goto(f"{origin}/index.html?api={self.api.url}")
        self.page.evaluate("() => window.chat.ready")
        return self

    def reload(self) -> None:
        self.page.reload()
        self.page.evaluate("() => window.chat.ready")

    def run(self, name: str, *args: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.page.evaluate(
            "([name, args]) => window.chat.run(name, ...args)", [name, list(args)]
        )
        return result

    def call(self, name: str, *args: Any) -> Any:
        result = self.run(name, *args)
        assert result["ok"], f"{name}{args!r} failed: {result}"
        return result["value"]

    def fail(self, name: str, *args: Any) -> dict[str, Any]:
        result = self.run(name, *args)
        assert not result["ok"], f"{name}{args!r} unexpectedly succeeded: {result}"
        return result

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.page.evaluate(
            "() => JSON.parse(JSON.stringify(window.chat.state))"
        )
        return state

    def error_text(self) -> str:
        return str(self.page.text_content("#error") or "")

    def register(self, email: str | None = None, name: str = "Ada") -> dict[str, Any]:
        user: dict[str, Any] = self.call("register", name, email or new_email(), PASSWORD, True)
        return user

    def api_calls(self, method: str, path: str) -> list[Seen]:
        prefix = f"{self.api.url}{path}"
        return [r for r in self.responses if r.method == method and r.url.startswith(prefix)]


def new_email() -> str:
    return f"u{uuid.uuid4().hex[:12]}@example.com"


class Browser:
    """A Chromium and the origins; `tab()` opens the page in a fresh (or given) cookie jar."""

    def __init__(self, chromium: Any, sites: Sites) -> None:
        self.chromium = chromium
        self.sites = sites
        self._contexts: list[Any] = []
        self.tabs: list[ClientPage] = []

    def context(self) -> Any:
        context = self.chromium.new_context()
        self._contexts.append(context)
        return context

    def tab(
        self, api: LiveServer, *, context: Any = None, hostile: bool = False, origin: str = ""
    ) -> ClientPage:
        context = context or self.context()
        tab = ClientPage(context.new_page(), api)
        self.tabs.append(tab)
        return tab.open(origin or (self.sites.hostile.origin if hostile else self.sites.web.origin))

    def close(self) -> None:
        for context in self._contexts:
            context.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def sites() -> Iterator[Sites]:
    web, hostile = StaticSite.start(), StaticSite.start()
    yield Sites(web, hostile)
    web.stop()
    hostile.stop()


def _api(tmp: Path, sites: Sites, **overrides: Any) -> LiveServer:
    port = free_port()
    settings = local_settings(
        tmp,
        public_url=f"http://127.0.0.1:{port}",
        # The page origin, and the same port under another host name (another site) to show
        # what cross-site deployment breaks even when the origin is on the list.
        web_origins=(sites.web.origin, sites.web.other_site_origin),
        offline_delay_seconds=OFFLINE_DELAY,
        **overrides,
    )
    return start_server(settings, port)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, sites: Sites) -> Iterator[LiveServer]:
    """The API for most tests; three failed logins per account trip the login limit."""
    live = _api(tmp_path_factory.mktemp("api"), sites, rate_login="3/900")
    yield live
    live.stop()


@pytest.fixture(scope="module")
def short_api(tmp_path_factory: pytest.TempPathFactory, sites: Sites) -> Iterator[LiveServer]:
    """An API whose access tokens live two seconds, to expire mid-session."""
    live = _api(tmp_path_factory.mktemp("short"), sites, access_token_seconds=2)
    yield live
    live.stop()


@pytest.fixture
def browser(chromium: Any, sites: Sites) -> Iterator[Browser]:
    """Fresh cookie jars per test; no tab may end with an uncaught error or a dialog."""
    b = Browser(chromium, sites)
    yield b
    problems = [
        (t.page.url, t.page_errors, t.dialogs) for t in b.tabs if t.page_errors or t.dialogs
    ]
    b.close()
    assert not problems, f"page errors or dialogs: {problems}"
