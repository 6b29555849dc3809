"""A streamed Chat Completions answer (`stream: true`), read chunk by chunk into the shape of an
unstreamed one, telling a listener the text so far as it grows (for live drafts).

The official client's stream reader costs about 23 µs of CPU per server-sent event here (its
line splitter, its event decoder, `json.loads` into dicts, a generator per layer); a model
streams one event per token, so a 3,000-token drawing cost a worker about 70 ms of CPU in the
reader alone (docs/performance.md). The event stream format is small and specified (WHATWG
HTML, "Server-sent events"): `EventData` splits it at the bytes, and each chunk is decoded by
msgspec straight into the few fields read. The request, its headers, auth, timeouts and its
error statuses stay the client's: only the body of a 200 is read here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from typing import Any

import anyio
import httpx2
import msgspec
import openai

# After `[DONE]` the rest of the body (the chunked encoding's end) is read, so the connection
# goes back to the pool instead of being closed; a server that holds it open gets this long.
_DRAIN_SECONDS = 1.0


class EventData:
    """The `data` of each event of a server-sent event stream, fed as it arrives in pieces of
    any size: `data:` lines joined by newlines, an event ending at a blank line; comments and the
    `event`, `id` and `retry` fields are read and dropped. Lines end in CR LF, LF or CR."""

    __slots__ = ("_data", "_pending")

    def __init__(self) -> None:
        self._pending = b""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[bytes]:
        if self._pending:
            chunk = self._pending + chunk
        lines = chunk.splitlines(keepends=True)
        # A last line without its end waits for the rest; one ending in CR too, as its LF may
        # be the next piece's first byte (CR LF is one line end, not two).
        self._pending = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        return self._lines(lines)

    def close(self) -> list[bytes]:
        """The events still held when the stream ends: its last line even without a line end,
        and an event the server did not close with a blank line (read rather than lost)."""
        lines = [self._pending] if self._pending else []
        self._pending = b""
        events = self._lines(lines)
        if self._data:
            events.append(b"\n".join(self._data))
            self._data = []
        return events

    def _lines(self, lines: list[bytes]) -> list[bytes]:
        events: list[bytes] = []
        data = self._data
        for raw in lines:
            line = raw.rstrip(b"\r\n")
            if not line:
                if data:
                    events.append(b"\n".join(data))
                    data = self._data = []
                continue
            name, _, value = line.partition(b":")
            if name == b"data":  # `data` alone, without a colon, is an empty line of data
                data.append(value[1:] if value[:1] == b" " else value)
        return events


class _Delta(msgspec.Struct):
    content: str | None = None
    refusal: str | None = None


class _ChunkChoice(msgspec.Struct):
    delta: _Delta | None = None
    finish_reason: str | None = None


class _Chunk(msgspec.Struct):
    """The parts of a `chat.completion.chunk` that are read; the rest is skipped unread."""

    choices: list[_ChunkChoice] | None = None
    model: str | None = None
    usage: dict[str, Any] | None = None
    error: Any = None


_CHUNK = msgspec.json.Decoder(_Chunk)


class Unreadable(Exception):
    """An event that is not a Chat Completions chunk: the answer cannot be read."""


async def collect_stream(
    response: httpx2.Response, on_text: Callable[[str], None] | None
) -> dict[str, Any] | None:
    """The answer as a completion body (`choices[0].message`, `finish_reason`, `model`,
    `usage`), or None when the stream held no event at all (a proxy's HTML page, say).
    `on_text` is called with the whole text so far after each piece of content; what it does
    with it is its own business (it must be quick: it runs between chunks).

    Raises `Unreadable` for an event that is not a chunk, `openai.APIError` for an error the
    server reports inside the stream, and the client's `APITimeoutError` / `APIConnectionError`
    when the body stops arriving, as the client's own stream reader does."""
    events = EventData()
    answer = _Answer(on_text)
    bytes_in = response.aiter_bytes()
    try:
        async for piece in bytes_in:
            if answer.read(events.feed(piece), response):
                break
        else:
            answer.read(events.close(), response)
            return answer.body()
    except httpx2.TimeoutException as exc:
        raise openai.APITimeoutError(request=response.request) from exc
    except (httpx2.RequestError, ssl.SSLError, anyio.EndOfStream) as exc:
        raise openai.APIConnectionError(request=response.request) from exc
    # `[DONE]`: what follows is the body's end; reading it lets the connection be reused.
    # Failing that, the answer is complete all the same and the connection is closed.
    with contextlib.suppress(TimeoutError, httpx2.RequestError, ssl.SSLError, anyio.EndOfStream):
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for _ in bytes_in:
                pass
    return answer.body()


class _Answer:
    __slots__ = ("content", "finish_reason", "model", "on_text", "refusal", "seen", "usage")

    def __init__(self, on_text: Callable[[str], None] | None) -> None:
        self.on_text = on_text
        self.seen = False
        self.content = ""
        self.refusal = ""
        self.finish_reason: str | None = None
        self.model: str | None = None
        self.usage: dict[str, Any] | None = None

    def read(self, events: list[bytes], response: httpx2.Response) -> bool:
        """Take in these events; True at `[DONE]`."""
        for data in events:
            if data.startswith(b"[DONE]"):
                return True
            try:
                chunk = _CHUNK.decode(data)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise Unreadable(data[:300].decode(errors="replace")) from exc
            if chunk.error:
                error = chunk.error
                message = error.get("message") if isinstance(error, dict) else None
                raise openai.APIError(
                    message=message
                    if isinstance(message, str) and message
                    else "An error occurred during streaming",
                    request=response.request,
                    body=error,
                )
            self.seen = True
            self.model = chunk.model or self.model
            if chunk.usage is not None:
                self.usage = chunk.usage
            for choice in chunk.choices or ():
                delta = choice.delta
                if delta is not None:
                    if delta.content:
                        self.content += delta.content
                        if self.on_text is not None:
                            self.on_text(self.content)
                    if delta.refusal is not None:
                        self.refusal += delta.refusal
                self.finish_reason = choice.finish_reason or self.finish_reason
        return False

    def body(self) -> dict[str, Any] | None:
        if not self.seen:
            return None
        return {
            "choices": [
                {
                    "message": {"content": self.content, "refusal": self.refusal or None},
                    "finish_reason": self.finish_reason,
                }
            ],
            "model": self.model,
            "usage": self.usage,
        }
