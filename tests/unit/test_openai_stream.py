"""The streamed answer's reader (adapters/generation/openai_stream.py): the event stream split at
the bytes as the HTML standard's event-stream interpretation says, checked against the official
client's own decoder wherever the two are defined alike, at every place the network could cut it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai
import pytest
from openai._streaming import SSEDecoder  # the client's reader: the reference

from chatsvg.adapters.generation.openai_stream import EventData, Unreadable, collect_stream

# Every line ending the standard allows, comments, fields other than data, `data` without a
# colon or without the space, an event of several data lines, and a non-ASCII character whose
# bytes a cut can separate.
STREAM = (
    b": a comment, then a retry field\n"
    b"retry: 3000\n"
    b'data: {"a": 1}\n\n'
    b"event: message\r\n"
    b"id: 7\r\n"
    b'data:{"b": "caf\xc3\xa9"}\r\n\r\n'
    b"data: first line\rdata: second line\r\r"
    b"data\n"
    b"data: after an empty line\n\n"
    b"data:  two spaces: one is kept\n\n"
    b"data: [DONE]\n\n"
)


def ours(pieces: list[bytes]) -> list[bytes]:
    events = EventData()
    found: list[bytes] = []
    for piece in pieces:
        found += events.feed(piece)
    return found + events.close()


def reference(pieces: list[bytes]) -> list[bytes]:
    return [event.data.encode() for event in SSEDecoder().iter_bytes(iter(pieces))]


def test_the_events_are_those_the_client_reads() -> None:
    expected = reference([STREAM])
    assert len(expected) == 6
    assert expected[1] == '{"b": "café"}'.encode()
    assert expected[2] == b"first line\nsecond line"
    assert expected[3] == b"\nafter an empty line"
    assert expected[4] == b" two spaces: one is kept"
    assert ours([STREAM]) == expected


def test_a_stream_cut_anywhere_reads_the_same() -> None:
    expected = reference([STREAM])
    for cut in range(1, len(STREAM)):
        assert ours([STREAM[:cut], STREAM[cut:]]) == expected, cut
    assert ours([STREAM[i : i + 1] for i in range(len(STREAM))]) == expected
    # CR LF cut between its two bytes is one line end, not an empty line ending the event.
    two = b"data: a\r\ndata: b\r\n\r\n"
    assert ours([two[:8], two[8:]]) == [b"a\nb"]


def test_an_event_the_server_did_not_close_is_read_at_the_end() -> None:
    assert ours([b"data: one\n\ndata: two"]) == [b"one", b"two"]
    assert ours([b"data: one\n\ndata: two\n"]) == [b"one", b"two"]
    assert ours([b"event: ping\n\n", b": keep-alive\n\n"]) == []


def response(*pieces: bytes) -> httpx2.Response:
    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    return httpx2.Response(
        200, content=body(), request=httpx2.Request("POST", "http://model/v1/chat/completions")
    )


def event(chunk: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(chunk)}\n\n".encode()


def content(text: str, **choice: Any) -> bytes:
    return event({"model": "m-1", "choices": [{"index": 0, "delta": {"content": text}, **choice}]})


async def test_the_chunks_make_the_answer_and_each_piece_is_told() -> None:
    told: list[str] = []
    answer = await collect_stream(
        response(
            event({"model": "m-1", "choices": [{"delta": {"role": "assistant", "content": ""}}]}),
            content("<svg") + content(">"),
            content("</svg>", finish_reason="stop")[:20],
            content("</svg>", finish_reason="stop")[20:],
            event({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3}}),
            b"data: [DONE]\n\n",
        ),
        told.append,
    )
    assert told == ["<svg", "<svg>", "<svg></svg>"]
    assert answer == {
        "choices": [
            {"message": {"content": "<svg></svg>", "refusal": None}, "finish_reason": "stop"}
        ],
        "model": "m-1",
        "usage": {"prompt_tokens": 5, "completion_tokens": 3},
    }


async def test_a_refusal_is_gathered_as_the_message_s_refusal() -> None:
    answer = await collect_stream(
        response(
            event({"choices": [{"delta": {"refusal": "I can't "}}]}),
            event({"choices": [{"delta": {"refusal": "help."}, "finish_reason": "stop"}]}),
        ),
        None,
    )
    assert answer is not None
    assert answer["choices"][0]["message"] == {"content": "", "refusal": "I can't help."}


async def test_a_body_without_events_is_no_answer() -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    assert await collect_stream(response(page), None) is None


async def test_an_error_in_the_stream_is_the_client_s_api_error() -> None:
    error = {"message": "The server had an error.", "type": "server_error"}
    with pytest.raises(openai.APIError) as raised:
        await collect_stream(response(content("<svg"), event({"error": error})), None)
    assert not isinstance(raised.value, openai.APIStatusError)
    assert raised.value.message == "The server had an error."
    assert raised.value.body == error


@pytest.mark.parametrize(
    "data",
    [
        b"data: not json\n\n",
        b"data: [1, 2]\n\n",
        b'data: {"choices": [{"delta": {"content": 7}}]}\n\n',
        b'data: {"choices": {"delta": {}}}\n\n',
    ],
)
async def test_an_event_that_is_no_chunk_makes_the_answer_unreadable(data: bytes) -> None:
    with pytest.raises(Unreadable):
        await collect_stream(response(content("<svg"), data), None)


async def test_a_body_that_stops_arriving_is_the_client_s_connection_error() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield content("<svg")
        raise httpx2.RemoteProtocolError("peer closed connection without sending complete body")

    cut = httpx2.Response(200, content=body(), request=httpx2.Request("POST", "http://model/v1"))
    with pytest.raises(openai.APIConnectionError):
        await collect_stream(cut, None)

    async def slow() -> AsyncIterator[bytes]:
        yield content("<svg")
        raise httpx2.ReadTimeout("timed out")

    late = httpx2.Response(200, content=slow(), request=httpx2.Request("POST", "http://model/v1"))
    with pytest.raises(openai.APITimeoutError):
        await collect_stream(late, None)


async def test_what_follows_done_is_read_but_not_taken() -> None:
    read: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        for piece in (content("<svg/>"), b"data: [DONE]\n\n", content("ignored"), b""):
            read.append(piece)
            yield piece

    told: list[str] = []
    done = httpx2.Response(200, content=body(), request=httpx2.Request("POST", "http://model/v1"))
    answer = await collect_stream(done, told.append)
    assert told == ["<svg/>"] and answer is not None
    assert len(read) == 4  # drained to the end: the connection can be reused
