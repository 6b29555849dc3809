"""A real ChatSVG server on 127.0.0.1 for end-to-end tests: uvicorn in a thread, with its own loop."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from chatsvg.entrypoints.containers import Container, create_container
from chatsvg.entrypoints.http.app import create_app
from chatsvg.entrypoints.server import uvicorn_config
from chatsvg.entrypoints.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    settings: Settings
    port: int
    container: Container
    server: uvicorn.Server
    thread: threading.Thread
    loop: asyncio.AbstractEventLoop | None = field(default=None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop (to reach its container from a test)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def start_server(settings: Settings, port: int | None = None) -> LiveServer:
    port = port or free_port()
    container = create_container(settings)
    app = create_app(settings, container)
    config = uvicorn_config(app, host="127.0.0.1", port=port, settings=settings)
    config.log_level = "warning"
    server = uvicorn.Server(config)
    live = LiveServer(settings, port, container, server, threading.Thread(target=lambda: None))

    def run() -> None:
        loop = asyncio.new_event_loop()
        live.loop = loop
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.serve())
        # What the server leaves running (Socket.IO's ping tasks of sockets still open) ends
        # here, not as "Task was destroyed but it is pending!" when the loop is closed.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    live.thread = threading.Thread(target=run, daemon=True)
    live.thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not live.thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    return live


class ApiClient:
    """An HTTP client that behaves like the web client: cookies, CSRF once per 'page load'."""

    def __init__(self, base_url: str, *, origin: str | None = None) -> None:
        headers = {"Origin": origin} if origin else {}
        self.http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30)
        self.csrf: str | None = None

    async def load_page(self) -> str:
        response = await self.http.get("/api/csrf")
        response.raise_for_status()
        self.csrf = response.json()["csrfToken"]
        return self.csrf

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        headers.update(extra or {})
        return headers

    async def post(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.post(path, json=json, headers=self._headers(headers))

    async def patch(self, path: str, json: Any = None) -> httpx.Response:
        return await self.http.patch(path, json=json, headers=self._headers(None))

    async def delete(self, path: str, json: Any = None) -> httpx.Response:
        return await self.http.request("DELETE", path, json=json, headers=self._headers(None))

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(path, **kw)

    async def register(
        self, email: str, password: str = "correct horse", name: str = "Ada"
    ) -> dict[str, Any]:
        if self.csrf is None:
            await self.load_page()
        response = await self.post(
            "/api/auth/register",
            {"email": email, "password": password, "name": name, "agreedToTerms": True},
        )
        assert response.status_code == 201, response.text
        return dict(response.json()["user"])

    async def wait_job(self, job_id: str, timeout: float = 40) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = await self.get(f"/api/svg/generation-jobs/{job_id}")
            body = response.json()
            if body["job"]["status"] in ("SUCCEEDED", "FAILED"):
                return dict(body)
            await asyncio.sleep(0.05)
        raise AssertionError(f"job {job_id} did not finish")

    async def aclose(self) -> None:
        await self.http.aclose()
