"""The web client's generation page (the real, built client) in Chromium against production mode:
our API on localhost:4000 with the Dramatiq queue, a separate `chatsvg worker` process, Postgres,
Redis, moto's S3 and the fake model. Each prompt typed on /app ends with its drawing in the
result's preview (the worker's RUNNING and SUCCEEDED pushes reach the page over Redis and
Socket.IO), and each is charged exactly once.

Skipped when the built client (/work/webclient/dist, or CHATSVG_WEBCLIENT_DIST) or Chromium is
absent: CI cannot build the client, so this runs where it has been built.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import local_settings
from tests.keys.test_api_keys_page_chromium import register_in_page
from tests.support.built_client import (
    API,
    NEEDS_BUILT_CLIENT,
    WEB,
    api_on_client_port,
)
from tests.support.live import LiveServer
from tests.support.real_stack import RealServices

pytestmark = [*NEEDS_BUILT_CLIENT, pytest.mark.real]

PROMPTS = ["a red fox in a meadow", "a lighthouse at night", "a teapot with steam"]


@pytest.fixture(scope="module")
def api(
    client_site: str,
    real_services: RealServices,
    real_worker: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    settings = local_settings(
        tmp_path_factory.mktemp("generate-page"),
        **real_services.settings_values(s3_bucket=real_worker, public_url=API, web_origins=(WEB,)),
    )
    assert settings.redis_url, "production mode: the API only enqueues, the worker runs the jobs"
    with api_on_client_port(settings) as live:
        yield live


def credits(page: Any) -> int:
    user = page.evaluate(
        """async (api) => (await (await fetch(api + '/api/auth/current-user',
                                              {credentials: 'include'})).json())""",
        API,
    )
    return int((user.get("user") or user)["credits"])


def test_prompts_typed_on_the_generation_page_end_with_their_drawings(client_browser: Any) -> None:
    page = client_browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(WEB)
    register_in_page(page, f"gen-{uuid.uuid4().hex[:8]}@example.com")
    before = credits(page)
    for prompt in PROMPTS:
        page.goto(f"{WEB}/app")
        page.fill("#prompt", prompt)
        page.click("button[type=submit][aria-label=Generate]")
        drawing = page.locator(".svg-preview svg")
        drawing.wait_for(state="visible", timeout=30_000)
        assert drawing.evaluate("svg => svg.querySelectorAll('*').length") > 0
    assert credits(page) == before - len(PROMPTS)  # each charged once, none refunded
    assert errors == []
    page.close()
