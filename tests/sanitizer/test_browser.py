"""The malicious corpus, sanitized, in a real Chromium: as a document, as <img>, inlined in HTML.

Payloads call `__hit(name)` (exposed to every frame by Playwright) and every external URL points
at a canary HTTP server on 127.0.0.1. Zero calls, zero dialogs and zero canary requests in all
three contexts is the pass mark. A positive control first runs a few raw samples through the same
harness, so a silent harness cannot pass for a safe sanitizer.

The SVGs are served with no CSP and no sandbox on purpose: the sanitizer alone must suffice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from chatsvg.application.ports import SvgRejected
from tests.sanitizer.corpus import Sample, malicious_corpus

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

# Fire every kind of event a handler could wait for, at every element, so a surviving on*
# attribute runs even without a user. Anchors get a real click() for their activation behaviour.
PROVOKE = """() => {
  const kinds = ['click', 'dblclick', 'mousedown', 'mouseup', 'mouseover', 'mouseenter', 'mousemove',
    'mouseout', 'pointerenter', 'pointerover', 'pointerdown', 'focus', 'focusin', 'blur', 'keydown',
    'load', 'error', 'abort', 'begin', 'end', 'repeat', 'beginEvent', 'endEvent', 'repeatEvent',
    'animationstart', 'animationend', 'transitionend', 'activate', 'DOMActivate', 'scroll',
    'resize', 'unload', 'wheel', 'contextmenu'];
  for (const el of document.querySelectorAll('*')) {
    for (const kind of kinds) { try { el.dispatchEvent(new Event(kind, {bubbles: true})); } catch (e) {} }
  }
  for (const a of document.querySelectorAll('a')) {
    try { a.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true})); } catch (e) {}
  }
  return document.querySelectorAll('*').length;
}"""


@dataclass
class Recorder:
    """An HTTP server that serves `routes` and remembers every path it was asked for."""

    routes: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.requests.append(self.path)
                kind, body = recorder.routes.get(self.path, ("text/plain", b"canary"))
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@dataclass
class Harness:
    app: Recorder
    canary: Recorder
    context: Any
    hits: list[str]
    dialogs: list[str]
    samples: list[Sample]
    sanitized: list[str]

    def reset(self) -> None:
        self.canary.requests.clear()
        self.hits.clear()
        self.dialogs.clear()

    def assert_nothing_happened(self) -> None:
        assert self.hits == [], f"script ran: {sorted(set(self.hits))}"
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"
        assert self.canary.requests == [], f"canary contacted: {sorted(set(self.canary.requests))}"


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    app, canary = Recorder(), Recorder()
    app.start()
    canary.start()
    canary.routes["/script-href.js"] = ("text/javascript", b"__hit('canary-script')")
    samples, sanitized = [], []
    for sample in malicious_corpus(canary.base):
        try:
            clean = SvgSanitizer().sanitize(sample.svg)
        except SvgRejected:
            continue
        samples.append(sample)
        sanitized.append(clean)
    hits: list[str] = []
    dialogs: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000
            )
            context = browser.new_context(java_script_enabled=True)
            context.expose_binding("__hit", lambda _source, name: hits.append(str(name)))

            def on_dialog(dialog: Any) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            def on_page(page: Any) -> None:
                page.on("dialog", on_dialog)

            context.on("page", on_page)
            yield Harness(app, canary, context, hits, dialogs, samples, sanitized)
            context.close()
            browser.close()
    finally:
        app.stop()
        canary.stop()


def _svg_route(harness: Harness, name: str, svg: str) -> str:
    path = f"/doc/{name}.svg"
    harness.app.routes[path] = ("image/svg+xml", svg.encode())
    return harness.app.base + path


def _html_route(harness: Harness, name: str, html: str) -> str:
    path = f"/{name}.html"
    harness.app.routes[path] = ("text/html; charset=utf-8", html.encode())
    return harness.app.base + path


def test_positive_control_the_harness_sees_raw_payloads(harness: Harness) -> None:
    raw = {s.name: s.svg for s in malicious_corpus(harness.canary.base)}
    harness.reset()
    page = harness.context.new_page()
    for name in ("script-plain", "event-handler-onload-svg", "external-url-image-href"):
        page.goto(_svg_route(harness, f"raw-{name}", raw[name]), wait_until="load")
        page.evaluate(PROVOKE)
    body = raw["event-handler-onclick-g"].split("?>")[-1]
    page.goto(_html_route(harness, "raw-inline", f"<!doctype html><body>{body}</body>"))
    page.evaluate(PROVOKE)
    page.wait_for_timeout(200)
    page.close()
    assert {"script-plain", "event-handler-onload-svg", "event-handler-onclick-g"} <= set(
        harness.hits
    )
    assert "/image.png" in harness.canary.requests
    harness.reset()


def test_as_top_level_documents(harness: Harness) -> None:
    harness.reset()
    page = harness.context.new_page()
    for sample, svg in zip(harness.samples, harness.sanitized, strict=True):
        response = page.goto(_svg_route(harness, sample.name, svg), wait_until="load")
        assert response is not None and response.ok
        # A parse error page would mean the payload never had a chance: it must be our document.
        assert page.evaluate("document.documentElement.localName") == "svg", sample.name
        assert page.evaluate(PROVOKE) > 1
    page.wait_for_timeout(300)
    page.close()
    harness.assert_nothing_happened()


def test_as_img_elements(harness: Harness) -> None:
    harness.reset()
    images = "".join(
        f'<img width="50" height="50" src="{_svg_route(harness, s.name, svg)}">'
        for s, svg in zip(harness.samples, harness.sanitized, strict=True)
    )
    page = harness.context.new_page()
    page.goto(_html_route(harness, "images", f"<!doctype html><body>{images}</body>"))
    loaded = page.evaluate(
        "() => Promise.all([...document.images].map(i => i.decode().then(() => 1, () => 0)))"
    )
    page.wait_for_timeout(300)
    page.close()
    assert sum(loaded) == len(harness.samples), "every sanitized SVG is a loadable image"
    harness.assert_nothing_happened()


def test_inlined_in_an_html_page(harness: Harness) -> None:
    harness.reset()
    blocks = "".join(f'<div id="s{i}">{svg}</div>' for i, svg in enumerate(harness.sanitized))
    page = harness.context.new_page()
    page.goto(
        _html_route(harness, "inline", f"<!doctype html><title>inline</title><body>{blocks}</body>")
    )
    # Every sample became exactly one <svg> element child of its div: no HTML escaped the SVG.
    shape = page.evaluate(
        "() => [...document.querySelectorAll('body > div')].map(d => d.children.length === 1 && "
        "d.firstElementChild.namespaceURI === 'http://www.w3.org/2000/svg' ? 1 : 0)"
    )
    assert shape == [1] * len(harness.sanitized)
    assert (
        page.evaluate("document.querySelectorAll('script, iframe, img, object, embed').length") == 0
    )
    page.evaluate(PROVOKE)
    page.wait_for_timeout(800)  # let SMIL and CSS animations that begin at load run
    page.evaluate(PROVOKE)
    assert page.title() == "inline"
    page.close()
    harness.assert_nothing_happened()
