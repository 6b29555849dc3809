"""Socket.IO at the wire, as the web client's socket.io-client speaks it (Engine.IO 4 over a
websocket), for what a library client cannot be made to do."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from tests.support.live import ApiClient, LiveServer


class RawSocket:
    """Engine.IO 4 packets over one websocket: answers pings, records every Socket.IO packet."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.packets: list[str] = []

    async def next(self, timeout: float = 10) -> str:
        while True:
            message = await asyncio.wait_for(self.ws.receive(), timeout)
            assert message.type == aiohttp.WSMsgType.TEXT, message
            packet = str(message.data)
            if packet == "2":  # Engine.IO ping
                await self.ws.send_str("3")
                continue
            self.packets.append(packet)
            return packet

    async def until(self, wanted: Any, timeout: float = 20) -> str:
        async def read() -> str:
            while True:
                packet = await self.next(timeout)
                if wanted(packet):
                    return packet

        return await asyncio.wait_for(read(), timeout)


@asynccontextmanager
async def raw_socket(server: LiveServer, client: ApiClient) -> AsyncIterator[RawSocket]:
    """A websocket to the server's Socket.IO with the client's `token` cookie, its Engine.IO
    open packet read; no CONNECT sent yet."""
    url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    headers = {"Cookie": f"token={client.http.cookies.get('token')}", "Origin": server.url}
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, headers=headers) as ws,
    ):
        socket = RawSocket(ws)
        assert (await socket.next()).startswith("0{")  # Engine.IO open
        yield socket


async def submit_job(client: ApiClient) -> str:
    submit = await client.post(
        "/api/svg/generate-svg",
        {"prompt": "a lighthouse at dusk", "style": "flat", "privacy": True},
    )
    assert submit.status_code == 202, submit.text
    return str(submit.json()["job"]["id"])


def job_update(packet: str) -> dict[str, Any] | None:
    if not packet.startswith('42["generation-job:update"'):
        return None
    return dict(json.loads(packet[2:])[1])


async def test_a_connect_sent_twice_on_one_connection_keeps_the_socket_and_its_updates(
    server: LiveServer, client: ApiClient
) -> None:
    # socket.io-client sends a second CONNECT ("40") when the page calls connect() again while the
    # first is unanswered (the web client's waitForSocketConnected does, as Generate is pressed).
    await client.register("ada@example.com")
    async with raw_socket(server, client) as socket:
        ws = socket.ws
        await ws.send_str("40")
        await ws.send_str("40")
        await socket.until(lambda p: p.startswith("40{"))  # connected
        job_id = await submit_job(client)

        def finished(packet: str) -> bool:
            update = job_update(packet)
            return (
                update is not None
                and update["jobId"] == job_id
                and update["status"]
                in (
                    "SUCCEEDED",
                    "FAILED",
                )
            )

        final = job_update(await socket.until(finished))
        assert final is not None and final["status"] == "SUCCEEDED"
        # One answer to the two CONNECTs and no CONNECT_ERROR ("44"): on that, socket.io-client
        # destroys its socket, which would get none of the job's updates.
        assert len([p for p in socket.packets if p.startswith("40")]) == 1
        assert not [p for p in socket.packets if p.startswith("44")]
        assert not ws.closed
        ours = [u for p in socket.packets if (u := job_update(p)) and u["jobId"] == job_id]
        assert [u["status"] for u in ours][-1] == "SUCCEEDED"
        assert len({(u["status"], u["progress"]) for u in ours}) == len(ours)  # each change once


async def test_ready_and_the_replay_come_after_the_connect_answer(
    server: LiveServer, client: ApiClient
) -> None:
    # socket.io-client hands events that arrive before the CONNECT answer to the listeners it
    # has then, before its `connect` event: the web client adds its job listener on `connect`.
    await client.register("ada@example.com")
    job_id = await submit_job(client)
    await client.wait_job(job_id)  # finished before any socket connects

    async with raw_socket(server, client) as socket:
        await socket.ws.send_str("40")

        def first(prefix: str) -> int | None:
            return next((i for i, p in enumerate(socket.packets) if p.startswith(prefix)), None)

        def replay_index() -> int | None:
            for i, packet in enumerate(socket.packets):
                update = job_update(packet)
                if update is not None and update["jobId"] == job_id:
                    return i
            return None

        await socket.until(lambda _: first("40{") is not None and replay_index() is not None)
        answer, ready, replayed = first("40{"), first('42["server:ready"'), replay_index()
    assert answer is not None and ready is not None and replayed is not None
    assert answer < ready < replayed, socket.packets
    final = job_update(socket.packets[replayed])
    assert final is not None and final["status"] == "SUCCEEDED"
