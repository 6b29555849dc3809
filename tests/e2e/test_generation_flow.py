"""Submit → live updates → result → download, over real HTTP and a real Socket.IO client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import socketio

from tests.e2e.test_http_contract import assert_problem
from tests.support.live import ApiClient, LiveServer


class SocketWatcher:
    """A python-socketio client authenticated by the `token` cookie, recording what it receives."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.ready = asyncio.Event()

        @self.client.on("server:ready")
        async def on_ready(data: Any) -> None:
            self.events.append(("server:ready", data))
            self.ready.set()

        @self.client.on("generation-job:update")
        async def on_update(data: Any) -> None:
            self.events.append(("generation-job:update", data))

        @self.client.on("notification:new")
        async def on_note(data: Any) -> None:
            self.events.append(("notification:new", data))

    async def connect(
        self,
        url: str,
        token: str | None,
        *,
        transports: list[str] | None = None,
        origin: str | None = None,
    ) -> None:
        headers = {"Cookie": f"token={token}"} if token else {}
        if origin:
            headers["Origin"] = origin
        await self.client.connect(
            url, headers=headers, transports=transports or ["polling", "websocket"], wait_timeout=8
        )
        await asyncio.wait_for(self.ready.wait(), 8)

    def statuses(self, job_id: str) -> list[str]:
        return [
            d["status"]
            for e, d in self.events
            if e == "generation-job:update" and d["jobId"] == job_id
        ]

    async def wait_for_status(self, job_id: str, status: str, timeout: float = 10) -> None:
        async def poll() -> None:
            while status not in self.statuses(job_id):
                await asyncio.sleep(0.02)

        await asyncio.wait_for(poll(), timeout)

    async def close(self) -> None:
        await self.client.disconnect()


async def test_live_updates_result_and_download(
    server: LiveServer, client_factory: Callable[..., ApiClient]
) -> None:
    ada, bob = client_factory(), client_factory()
    await ada.register("ada@example.com")
    await bob.register("bob@example.com")
    ada_socket, bob_socket = SocketWatcher(), SocketWatcher()
    await ada_socket.connect(server.url, ada.http.cookies.get("token"))
    await bob_socket.connect(server.url, bob.http.cookies.get("token"), transports=["websocket"])
    try:
        submit = await ada.post(
            "/api/svg/generate-svg",
            {"prompt": "a lighthouse at dusk", "style": "flat", "privacy": True},
        )
        assert submit.status_code == 202, submit.text
        job = submit.json()["job"]
        assert submit.json()["duplicate"] is False
        assert submit.headers["location"] == f"/api/svg/generation-jobs/{job['id']}"
        assert job["status"] == "QUEUED" and job["generation"] is None
        await ada_socket.wait_for_status(job["id"], "SUCCEEDED")
        statuses = ada_socket.statuses(job["id"])
        assert statuses[0] == "QUEUED" and statuses[-1] == "SUCCEEDED" and "RUNNING" in statuses
        assert statuses.index("RUNNING") < statuses.index("SUCCEEDED")
        assert bob_socket.statuses(job["id"]) == []  # another user sees nothing
        for _ in range(100):  # the notification follows the SUCCEEDED update
            notes = [d for e, d in ada_socket.events if e == "notification:new"]
            if notes:
                break
            await asyncio.sleep(0.05)
        assert [n["type"] for n in notes] == ["JOB_SUCCEEDED"]

        done = (await ada.get(f"/api/svg/generation-jobs/{job['id']}")).json()
        assert done["credits"] == 9
        generation = done["job"]["generation"]
        assert (
            generation["svg"].startswith("<svg") and generation["id"] == done["job"]["generationId"]
        )

        dl = await ada.get(f"/api/svg/{generation['id']}/download")
        assert dl.status_code == 200 and dl.headers["cache-control"] == "no-store"
        url = dl.json()["downloadUrl"]
        assert url.startswith("http://") and dl.json()["expiresAt"].endswith("Z")
        async with httpx.AsyncClient() as anonymous:  # no cookies: the signature is the credential
            file = await anonymous.get(url, headers={"Origin": "http://localhost:5173"})
            assert file.status_code == 200
            assert file.headers["content-type"].startswith("image/svg+xml")
            assert file.headers["content-disposition"].startswith("attachment")
            assert file.headers["x-content-type-options"] == "nosniff"
            assert "sandbox" in file.headers["content-security-policy"]
            assert file.headers["access-control-allow-origin"] == "http://localhost:5173"
            assert file.text == generation["svg"]
            tampered = await anonymous.get(url.replace("sig=", "sig=0"))
            assert_problem(tampered, 403, "FORBIDDEN")

        source = await ada.get(f"/api/svg/{generation['id']}/source")
        assert source.json() == {"id": generation["id"], "svg": generation["svg"]}
        for path in (
            f"/api/svg/generation-jobs/{job['id']}",
            f"/api/svg/{generation['id']}/download",
            f"/api/svg/{generation['id']}/source",
        ):
            assert_problem(await bob.get(path), 404, "NOT_FOUND")
        assert_problem(
            await bob.delete(f"/api/user/generations/{generation['id']}"), 404, "NOT_FOUND"
        )

        history = (await ada.get("/api/user/generations")).json()
        assert [g["id"] for g in history["generations"]] == [generation["id"]]
        item = history["generations"][0]
        assert item["sizeBytes"] > 0 and item["svgUrl"].startswith("http")
        async with httpx.AsyncClient() as img:
            assert (await img.get(item["svgUrl"])).status_code == 200

        ledger = (await ada.get("/api/user/credits/ledger")).json()["items"]
        assert sorted((i["delta"], i["reason"]) for i in ledger) == [
            (-1, "GENERATION_CHARGE"),
            (10, "SIGNUP_GRANT"),
        ]
        assert (await ada.get("/api/user/credits")).json() == {"balance": 9}

        deleted = await ada.delete(f"/api/user/generations/{generation['id']}")
        assert deleted.status_code == 204
        async with httpx.AsyncClient() as anonymous:
            assert (await anonymous.get(url)).status_code == 404
    finally:
        await ada_socket.close()
        await bob_socket.close()


async def test_unauthenticated_sockets_are_refused(server: LiveServer) -> None:
    watcher = SocketWatcher()
    try:
        await watcher.connect(server.url, None)
    except socketio.exceptions.ConnectionError:
        pass
    else:
        await watcher.close()
        raise AssertionError("an unauthenticated socket was accepted")
    forged = SocketWatcher()
    try:
        await forged.connect(server.url, "not-a-token")
    except socketio.exceptions.ConnectionError:
        return
    await forged.close()
    raise AssertionError("a socket with a forged token was accepted")


async def test_idempotent_submit_over_http(client: ApiClient) -> None:
    await client.register("idem@example.com")
    body = {"prompt": "a boat", "style": "flat", "privacy": True, "model": "offline"}
    first = await client.post("/api/svg/generate-svg", body, headers={"x-idempotency-key": "key-1"})
    assert first.status_code == 202
    job_id = first.json()["job"]["id"]
    await client.wait_job(job_id)
    same = await client.post(
        "/api/svg/generate-svg",
        {"model": "offline", "privacy": True, "style": "flat", "prompt": "a boat"},
        headers={"Idempotency-Key": "key-1"},
    )
    assert same.status_code == 200  # terminal now
    assert same.json()["job"]["id"] == job_id and same.json()["duplicate"] is True
    different = await client.post(
        "/api/svg/generate-svg", {**body, "prompt": "a car"}, headers={"x-idempotency-key": "key-1"}
    )
    assert_problem(different, 422, "IDEMPOTENCY_KEY_REUSED")
    assert (await client.get("/api/user/credits")).json()["balance"] == 9


async def test_out_of_credits_is_402(
    server_factory: Callable[..., LiveServer], client_factory: Callable[..., ApiClient]
) -> None:
    poor = server_factory(start_credits=0)
    c = client_factory(base=poor)
    await c.register("poor@example.com")
    assert_problem(
        await c.post("/api/svg/generate-svg", {"prompt": "x"}), 402, "INSUFFICIENT_CREDITS"
    )


async def test_cancel_over_http(
    server_factory: Callable[..., LiveServer],
    client_factory: Callable[..., ApiClient],
    stack_kind: str,
) -> None:
    if stack_kind == "real":
        pytest.skip(
            "needs a deliberately slow model; cancel on Postgres is covered in tests/behaviour"
        )
    slow = server_factory(offline_delay_seconds=5, worker_concurrency=1)
    c = client_factory(base=slow)
    await c.register("cancel@example.com")
    first = (await c.post("/api/svg/generate-svg", {"prompt": "occupies the only worker"})).json()[
        "job"
    ]
    second = (await c.post("/api/svg/generate-svg", {"prompt": "waits in the queue"})).json()["job"]
    await asyncio.sleep(0.3)
    cancelled = await c.post(f"/api/svg/generation-jobs/{second['id']}/cancel")
    assert cancelled.status_code == 200
    assert (cancelled.json()["job"]["status"], cancelled.json()["job"]["errorCode"]) == (
        "FAILED",
        "CANCELED",
    )
    running = await c.post(f"/api/svg/generation-jobs/{first['id']}/cancel")
    assert_problem(running, 409, "JOB_NOT_CANCELLABLE")


async def test_expired_access_token_then_refresh_then_retry(
    server_factory: Callable[..., LiveServer], client_factory: Callable[..., ApiClient]
) -> None:
    short = server_factory(access_token_seconds=4)
    c = client_factory(base=short)
    await c.register("short@example.com")
    await asyncio.sleep(4.2)
    # The browser dropped the expired cookie (Max-Age=4); an API client presenting it sees TOKEN_EXPIRED.
    stale = await c.http.get("/api/auth/current-user")
    assert stale.status_code == 401
    assert (await c.post("/api/auth/refresh")).status_code == 200
    assert (await c.get("/api/auth/current-user")).status_code == 200


async def test_logout_disconnects_the_sessions_sockets_on_every_api_process(
    server_factory: Callable[..., LiveServer],
    client_factory: Callable[..., ApiClient],
    stack_kind: str,
) -> None:
    a = server_factory(worker=False)
    b = server_factory(worker=False) if stack_kind == "real" else a  # replicas share Redis
    via_a = client_factory(base=a)
    await via_a.register("sockets@example.com")
    watcher = SocketWatcher()
    await watcher.connect(a.url, via_a.http.cookies.get("token"))
    disconnected = asyncio.Event()
    watcher.client.on("disconnect", lambda *args: disconnected.set())
    via_b = client_factory(base=b)
    await via_b.load_page()
    via_b.http.cookies = via_a.http.cookies
    via_b.csrf = via_a.csrf
    assert (await via_b.post("/api/auth/logout")).status_code == 204
    await asyncio.wait_for(disconnected.wait(), 10)
    assert not watcher.client.connected


async def test_jobs_list_and_account_deletion(
    server: LiveServer, client_factory: Callable[..., ApiClient]
) -> None:
    c = client_factory()
    await c.register("leaving@example.com")
    job = (await c.post("/api/svg/generate-svg", {"prompt": "soon gone"})).json()["job"]
    done = await c.wait_job(job["id"])
    listed = (await c.get("/api/svg/generation-jobs")).json()
    assert listed["nextCursor"] is None
    item = listed["jobs"][0]
    assert item["id"] == job["id"] and item["generation"]["id"] == done["job"]["generationId"]
    assert "svg" not in item["generation"]  # the list leaves the SVG text out
    url = (await c.get(f"/api/svg/{item['generation']['id']}/download")).json()["downloadUrl"]
    assert_problem(
        await c.delete("/api/user", {"password": "wrong password"}), 401, "INVALID_CREDENTIALS"
    )
    gone = await c.delete("/api/user", {"password": "correct horse"})
    assert gone.status_code == 204
    assert c.http.cookies.get("token") is None
    assert_problem(await c.get("/api/auth/current-user"), 401, "UNAUTHENTICATED")
    login = await c.post(
        "/api/auth/login", {"email": "leaving@example.com", "password": "correct horse"}
    )
    assert_problem(login, 401, "INVALID_CREDENTIALS")
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(url)).status_code == 404  # the artifact is deleted too


async def test_a_job_that_finished_before_the_socket_connected_is_shown_on_connect(
    server: LiveServer, client_factory: Callable[..., ApiClient]
) -> None:
    """The web client connects its socket after the submit answers; a quick job may be done by
    then. Every connection is told the latest state of the user's recent jobs, once."""
    ada, bob = client_factory(), client_factory()
    await ada.register("early@example.com")
    await bob.register("other-early@example.com")
    submit = await ada.post("/api/svg/generate-svg", {"prompt": "a quick paper plane"})
    assert submit.status_code == 202, submit.text
    job_id = submit.json()["job"]["id"]
    done = (await ada.wait_job(job_id))["job"]
    assert done["status"] == "SUCCEEDED"
    late, other = SocketWatcher(), SocketWatcher()
    await late.connect(server.url, ada.http.cookies.get("token"))
    await other.connect(server.url, bob.http.cookies.get("token"))
    try:
        await late.wait_for_status(job_id, "SUCCEEDED", timeout=5)
        await asyncio.sleep(0.3)
        updates = [d for e, d in late.events if e == "generation-job:update"]
        assert [(u["jobId"], u["status"]) for u in updates] == [(job_id, "SUCCEEDED")]
        assert updates[0]["generationId"] == done["generationId"]
        assert updates[0]["progress"] == 100
        assert other.statuses(job_id) == []  # only the owner's jobs
    finally:
        await late.close()
        await other.close()
        await ada.aclose()
        await bob.aclose()


async def test_a_socket_never_sees_a_job_go_back_whatever_order_updates_arrive_in(
    server: LiveServer, client_factory: Callable[..., ApiClient]
) -> None:
    """Updates of one job come from several processes and may cross on the way; each socket
    gets each job's updates in order and once (by the update's `seq`), even when they arrive
    late, twice or out of order."""
    ada = client_factory()
    user = await ada.register("order@example.com")
    watcher = SocketWatcher()
    await watcher.connect(server.url, ada.http.cookies.get("token"))
    realtime = server.container.infrastructure.realtime()
    job_id = "ordering-probe-job"

    def update(status: str, seq: int, progress: int) -> dict[str, Any]:
        return {"jobId": job_id, "status": status, "progress": progress, "seq": seq}

    try:
        arrivals = [
            update("RUNNING", 1010, 10),  # the worker's claim overtook the API's QUEUED
            update("QUEUED", 100, 0),  # late: never shown
            update("RUNNING", 1050, 50),
            update("RUNNING", 1050, 50),  # a duplicate: once
            update("QUEUED", 1100, 0),  # a retry after a fault
            update("RUNNING", 1070, 70),  # a late push of the lost attempt
            update("RUNNING", 2010, 10),
            update("SUCCEEDED", 2200, 100),
            update("RUNNING", 2070, 70),  # after the end
        ]
        for payload in arrivals:
            server.call(realtime.job_updated(user["id"], payload))
        await watcher.wait_for_status(job_id, "SUCCEEDED", timeout=5)
        await asyncio.sleep(0.3)
        seen = [(d["status"], d["seq"]) for e, d in watcher.events if e == "generation-job:update"]
        assert seen == [
            ("RUNNING", 1010),
            ("RUNNING", 1050),
            ("QUEUED", 1100),
            ("RUNNING", 2010),
            ("SUCCEEDED", 2200),
        ]
        # A socket that connects now is told the job's latest state only (nothing: the probe job
        # is not stored) and real jobs carry `seq` in every update.
        submit = await ada.post("/api/svg/generate-svg", {"prompt": "an ordered kite"})
        real_id = submit.json()["job"]["id"]
        await watcher.wait_for_status(real_id, "SUCCEEDED", timeout=20)
        seqs = [
            d["seq"]
            for e, d in watcher.events
            if e == "generation-job:update" and d["jobId"] == real_id
        ]
        assert seqs == sorted(set(seqs)) and seqs[0] == 100
    finally:
        await watcher.close()
        await ada.aclose()
