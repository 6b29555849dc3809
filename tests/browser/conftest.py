"""The playground in Debian's Chromium, driven by Playwright, against the real embedded server.

Each test gets fresh browser contexts (no shared cookies or storage). Every page records its
console errors, uncaught page errors, navigations and the Socket.IO frames it receives, and a
failing test leaves screenshots of its pages in `test-artifacts/`.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import local_settings
from tests.support.live import LiveServer, free_port, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "correct horse battery"

if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, Page, Request, WebSocket, sync_playwright  # noqa: E402


@dataclass
class Tab:
    """A page with what it saw: console errors, page errors, requests, socket frames."""

    page: Page
    context: BrowserContext
    console_errors: list[str] = field(default_factory=list)
    console_messages: list[tuple[str, str]] = field(default_factory=list)  # (type, text), all
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    error_responses: list[str] = field(default_factory=list)  # "401 GET /api/..." and the like
    navigations: int = 0
    sockets: list[str] = field(default_factory=list)
    socket_events: list[tuple[int, str, Any]] = field(default_factory=list)

    def on_socket(self, ws: WebSocket) -> None:
        index = len(self.sockets)
        self.sockets.append(ws.url)

        def received(payload: str | bytes) -> None:
            # A Socket.IO event travels as the Engine.IO message `4` + Socket.IO EVENT `2` + JSON.
            if isinstance(payload, str) and payload.startswith("42"):
                name, *args = json.loads(payload[2:])
                self.socket_events.append((index, name, args[0] if args else None))

        ws.on("framereceived", received)

    def job_updates(self, job_id: str | None = None) -> list[dict[str, Any]]:
        return [
            data
            for _, name, data in self.socket_events
            if name == "generation-job:update" and (job_id is None or data["jobId"] == job_id)
        ]

    def unexpected_console_errors(self, allowed_statuses: tuple[int, ...] = ()) -> list[str]:
        """Console errors, less the browser's own 'Failed to load resource' lines for statuses a
        scenario provokes on purpose (a 401 before a refresh, a 402, a 429, ...)."""
        statuses = "|".join(str(s) for s in allowed_statuses)
        allowed = re.compile(
            rf"^Failed to load resource: the server responded with a status of ({statuses})\b"
        )
        return [m for m in self.console_errors if not (allowed_statuses and allowed.match(m))]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start a real embedded server (local mode) on 127.0.0.1 with setting overrides."""
    started: list[LiveServer] = []

    def make(**overrides: Any) -> LiveServer:
        port = free_port()
        settings = local_settings(
            tmp_path / f"server{len(started)}",
            public_url=f"http://127.0.0.1:{port}",
            **overrides,
        )
        live = start_server(settings, port=port)
        started.append(live)
        return live

    yield make
    for live in started:
        live.stop()


@pytest.fixture
def tabs(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[[], Tab]]:
    """Open a page in a new, empty browser context (a separate person)."""
    opened: list[Tab] = []

    def open_tab() -> Tab:
        context = browser.new_context(
            viewport={"width": 1280, "height": 860}, accept_downloads=True
        )
        context.set_default_timeout(10_000)
        tab = Tab(page=context.new_page(), context=context)
        page = tab.page
        page.on(
            "console", lambda m: tab.console_errors.append(m.text) if m.type == "error" else None
        )
        page.on("console", lambda m: tab.console_messages.append((m.type, m.text)))
        page.on("pageerror", lambda e: tab.page_errors.append(str(e)))
        page.on("websocket", tab.on_socket)
        page.on("request", lambda r: tab.requests.append(_describe(r)))
        page.on(
            "response",
            lambda r: (
                tab.error_responses.append(f"{r.status} {_describe(r.request)}")
                if r.status >= 400
                else None
            ),
        )
        page.on(
            "framenavigated",
            lambda f: (
                setattr(tab, "navigations", tab.navigations + 1) if f == page.main_frame else None
            ),
        )
        opened.append(tab)
        return tab

    yield open_tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for i, tab in enumerate(opened):
            # The page may be gone already: the screenshot is a courtesy.
            with contextlib.suppress(Exception):
                tab.page.screenshot(
                    path=str(ARTIFACTS / f"{request.node.name}-{i}.png"), full_page=True
                )
    for tab in opened:
        tab.context.close()


def _describe(request: Request) -> str:
    path = request.url.split("://", 1)[-1].split("/", 1)[-1]
    return f"{request.method} /{path.split('?', 1)[0]}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.report_call = report  # type: ignore[attr-defined]
