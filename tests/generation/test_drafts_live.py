"""Live drafts end to end: a worker process streams the (fake) model's answer and its drafts
reach the owner's browser socket through Redis, before the job's SUCCEEDED update; a client
that ignores the event is unaffected."""

from __future__ import annotations

import asyncio
import itertools
import json
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from tests.e2e.test_generation_flow import SocketWatcher
from tests.support.live import ApiClient, LiveServer
from tests.support.real_stack import RealServices

pytestmark = pytest.mark.real


@pytest.fixture
def stack_kind() -> str:
    return "real"


def control(base_url: str, **changes: Any) -> None:
    request = urllib.request.Request(
        base_url.removesuffix("/v1") + "/_control",
        data=json.dumps(changes).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200


@pytest.fixture
def slow_stream(real_services: RealServices) -> Iterator[None]:
    control(real_services.openai_base_url, stream_chunk=48, stream_seconds=1.5)
    yield
    control(real_services.openai_base_url, stream_chunk=64, stream_seconds=0.0)


async def test_drafts_reach_the_owner_before_the_result(
    server: LiveServer, client_factory: Callable[..., ApiClient], slow_stream: None
) -> None:
    ada, bob = client_factory(), client_factory()
    await ada.register("ada@example.com")
    await bob.register("bob@example.com")
    ada_socket, bob_socket = SocketWatcher(), SocketWatcher()
    drafts: list[tuple[float, dict[str, Any]]] = []
    loop = asyncio.get_running_loop()

    @ada_socket.client.on("generation-job:draft")
    async def on_draft(data: Any) -> None:
        drafts.append((loop.time(), data))
        ada_socket.events.append(("generation-job:draft", data))

    others: list[Any] = []

    @bob_socket.client.on("generation-job:draft")
    async def on_other(data: Any) -> None:
        others.append(data)

    await ada_socket.connect(server.url, ada.http.cookies.get("token"))
    await bob_socket.connect(server.url, bob.http.cookies.get("token"))
    try:
        job = (await ada.post("/api/svg/generate-svg", {"prompt": "a fox at night"})).json()["job"]
        await ada_socket.wait_for_status(job["id"], "SUCCEEDED", timeout=30)
        done = (await ada.get(f"/api/svg/generation-jobs/{job['id']}")).json()["job"]
    finally:
        await ada_socket.close()
        await bob_socket.close()

    assert done["status"] == "SUCCEEDED"
    assert len(drafts) >= 2, drafts
    assert {d["jobId"] for _, d in drafts} == {job["id"]}
    times = [t for t, _ in drafts]
    # At most 4 a second (as sent: the transport may bunch two together on arrival).
    assert len(drafts) <= 4 * (times[-1] - times[0]) + 2
    assert sum(b - a < 0.1 for a, b in itertools.pairwise(times)) <= 1
    for _, draft in drafts:
        assert draft["svg"].startswith("<svg") and draft["svg"].endswith("</svg>")
        assert draft["svg"] == SvgSanitizer().sanitize(draft["svg"])
        assert 10 <= draft["progress"] < 70
    kinds = [event for event, data in ada_socket.events if data.get("jobId") == job["id"]]
    assert kinds.index("generation-job:draft") < len(kinds) - 1
    assert kinds[-1] in ("generation-job:update",)  # SUCCEEDED comes after the last draft
    assert others == []  # another user sees no drafts
