"""The catch-up an API process sends its sockets after its Redis subscription came back."""

from __future__ import annotations

from typing import Any

import pytest

from chatsvg.entrypoints import realtime


class Manager:
    def __init__(self, sockets: dict[str, str]) -> None:
        self.sockets = sockets  # sid -> user id
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def get_participants(self, namespace: str, room: str | None) -> Any:
        assert (namespace, room) == ("/", None)
        return [(sid, f"eio-{sid}") for sid in self.sockets]

    async def emit(self, event: str, data: dict[str, Any], namespace: str, **kw: Any) -> None:
        assert event == "generation-job:update" and kw["ignore_queue"]
        self.sent.append((kw["room"], data))


class Server:
    """What `_catch_up` uses of python-socketio's AsyncServer: its manager and the sessions."""

    def __init__(self, sockets: dict[str, str]) -> None:
        self.manager = Manager(sockets)

    async def get_session(self, sid: str) -> dict[str, str]:
        return {"user_id": self.manager.sockets[sid]}


async def test_a_catch_up_that_cannot_read_the_database_tries_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(realtime, "CATCH_UP_PAUSES", (0.0, 0.0, 0.0))
    server = Server({"s1": "ann", "s2": "ann", "s3": "bob"})
    failures = {"ann": 2, "bob": 0}
    reads: list[str] = []

    async def replay(user_id: str) -> list[dict[str, Any]]:
        reads.append(user_id)
        if failures[user_id]:
            failures[user_id] -= 1
            raise ConnectionError("database away")
        return [{"jobId": f"{user_id}-job", "seq": 3}]

    await realtime._catch_up(server, replay)  # type: ignore[arg-type]
    assert reads == ["ann", "bob", "ann", "ann"]  # bob read once, ann until it worked
    assert sorted(server.manager.sent, key=lambda s: s[0]) == [
        ("s1", {"jobId": "ann-job", "seq": 3}),
        ("s2", {"jobId": "ann-job", "seq": 3}),
        ("s3", {"jobId": "bob-job", "seq": 3}),
    ]


async def test_a_catch_up_gives_up_after_its_last_try(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(realtime, "CATCH_UP_PAUSES", (0.0, 0.0))
    server = Server({"s1": "ann"})
    reads: list[str] = []

    async def replay(user_id: str) -> list[dict[str, Any]]:
        reads.append(user_id)
        raise ConnectionError("database away")

    await realtime._catch_up(server, replay)  # type: ignore[arg-type]
    assert reads == ["ann"] * 3 and server.manager.sent == []
