"""A small OpenAI-compatible server for tests and benchmarks: POST /v1/chat/completions.

It answers like the real Chat Completions API (same JSON shapes, error bodies and headers) and can
be steered to misbehave. Everything runs on one asyncio loop with `asyncio.sleep` for latency, so
thousands of slow requests in flight cost a few KB each and no threads.

In-process::

    async with FakeOpenAI(latency=0.5) as fake:
        generator = OpenAiSvgGenerator("sk-test", base_url=fake.base_url)
        fake.configure(script=["429", "ok"])
        fake.requests()["count"]

As a separate process (prints ``FAKE_OPENAI_READY <base_url>`` once it listens)::

    python -m tests.support.fake_openai --port 0 --latency 2 --mode fence

or from Python, ``with start_process(latency=2.0) as proc: proc.base_url``.

What each request gets is its *outcome*, chosen in this order:

1. a directive in the user message: ``[fake:429]`` (always), ``[fake:429x2]`` (the first two
   requests carrying this exact prompt, then the default) — deterministic under concurrency,
   for tests that run many jobs at once;
2. the next entry of the script (consumed one per request);
3. a draw from ``chance`` (outcome → probability, e.g. ``{"429": 0.1, "500": 0.05}``: each
   request independently, from a seeded generator), the way a busy real provider misbehaves;
4. the mode.

Outcomes: ``ok``/``fence`` (SVG in a ```svg fence with prose around it), ``plain`` (the bare SVG),
``xml`` (```xml fence with an XML declaration), ``multi`` (two SVGs), ``prose`` (no SVG at all),
``broken`` (an SVG cut off mid-tag), ``length`` (cut off, finish_reason "length"), ``refuse``
(message.refusal set), ``content_filter`` (finish_reason "content_filter"), ``empty`` (content ""),
``garbage`` (200 with an HTML body), ``slow`` (answer after `slow_seconds`), ``quota`` (429
insufficient_quota), ``hang_up`` (close the connection without answering), ``stream_error`` and
``stream_cut`` (a streamed answer that stops halfway with an ``error`` event, or with the
connection closed; unstreamed, a 500 and ``hang_up``), or any HTTP error
status ``400``-``599`` (``429`` carries Retry-After). Unusable drawings (``BROKEN_OUTCOMES``):
``truncated`` (the SVG cut off, no fence), ``no_viewbox`` (no viewBox and no size), ``blank`` (an
SVG that draws nothing), ``wrapped`` (the bare SVG with prose on both sides), ``prose``, ``empty``.

A request with ``stream: true`` gets the same answer as server-sent chunks (``stream_chunk``
characters each, spread over ``stream_seconds``; the usage last when ``stream_options`` asks).

A request asking for a structured answer (``response_format`` of type ``json_schema``) gets
``{"svg": "..."}`` as its content for ``ok``/``fence``; with ``reject_response_format`` set it is
refused with a 400, as a model without structured output refuses it.

Control API (JSON):

- ``GET /_control``: the current configuration.
- ``POST /_control`` with any of ``latency``, ``mode``, ``script`` (replaces the script),
  ``append`` (adds to it), ``chance`` (outcome → probability), ``seed``, ``retry_after`` (seconds or null for no header), ``slow_seconds``,
  ``api_key`` (require this bearer key; null accepts any), ``reject_response_format``, ``stream_chunk``, ``stream_seconds``, ``reset`` (true: defaults and no
  records first). Answers with the new configuration.
- ``GET /_control/requests``: count, per-model and per-outcome counts, in_flight, max_in_flight,
  the last request body and headers, the last few bodies, and ``arrivals`` (``[seconds since the
  server started, outcome]`` per request, the last 20,000).
- ``DELETE /_control/requests``: forget the records (configuration stays).
- ``GET /health``: ``{"ok": true}``.

Environment defaults for the CLI: FAKE_OPENAI_LATENCY, FAKE_OPENAI_MODE, FAKE_OPENAI_SCRIPT (comma
separated), FAKE_OPENAI_RETRY_AFTER, FAKE_OPENAI_API_KEY.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import random
import re
import selectors
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from xml.sax.saxutils import escape

from aiohttp import web

SUCCESS_OUTCOMES = frozenset({"ok", "fence", "plain", "xml", "multi"})
OTHER_OUTCOMES = frozenset(
    {
        "prose",
        "broken",
        "length",
        "refuse",
        "content_filter",
        "empty",
        "garbage",
        "slow",
        "quota",
        "hang_up",
        # A stream that goes wrong after some content: an `error` event, or the connection
        # closed mid-answer (without `stream: true`, a 500 and `hang_up`).
        "stream_error",
        "stream_cut",
        # Unusable drawings a real model sometimes gives (validate-and-repair is measured on them).
        "truncated",
        "no_viewbox",
        "blank",
        "wrapped",
    }
)
# The drawings' faults, for `chance` in a measurement: each is an answer a repair can fix.
BROKEN_OUTCOMES = ("truncated", "no_viewbox", "blank", "wrapped", "prose", "empty")
_STATUS = re.compile(r"^[45]\d\d$")
_DIRECTIVE = re.compile(r"\[fake:([a-z_0-9]+?)(?:x(\d+))?\]")
_RECENT = 50
_CONTROL_KEYS = frozenset(
    {
        "latency",
        "mode",
        "script",
        "append",
        "chance",
        "seed",
        "retry_after",
        "slow_seconds",
        "api_key",
        "reset",
        "reject_response_format",
        "stream_chunk",
        "stream_seconds",
    }
)
READY_PREFIX = "FAKE_OPENAI_READY"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def is_outcome(name: str) -> bool:
    return name in SUCCESS_OUTCOMES or name in OTHER_OUTCOMES or bool(_STATUS.match(name))


def _check_outcomes(names: Iterable[str]) -> list[str]:
    checked = [str(name) for name in names]
    unknown = [name for name in checked if not is_outcome(name)]
    if unknown:
        raise ValueError(f"unknown outcome(s): {', '.join(unknown)}")
    return checked


@dataclass
class FakeConfig:
    latency: float = 0.0
    mode: str = "fence"
    script: deque[str] = field(default_factory=deque)
    retry_after: float | None = 1.0
    slow_seconds: float = 30.0
    api_key: str | None = None
    chance: dict[str, float] = field(default_factory=dict)
    # Answer 400 to a request asking for a structured answer, as a model without it does.
    reject_response_format: bool = False
    # A streamed answer (stream=true): pieces of this many characters, spread over this long.
    stream_chunk: int = 64
    stream_seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "latency": self.latency,
            "mode": self.mode,
            "script": list(self.script),
            "chance": dict(self.chance),
            "retry_after": self.retry_after,
            "slow_seconds": self.slow_seconds,
            "api_key": self.api_key,
            "reject_response_format": self.reject_response_format,
            "stream_chunk": self.stream_chunk,
            "stream_seconds": self.stream_seconds,
        }


@dataclass
class RequestLog:
    count: int = 0
    models: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    last: dict[str, Any] | None = None
    last_headers: dict[str, str] = field(default_factory=dict)
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=_RECENT))
    arrivals: deque[tuple[float, str]] = field(default_factory=lambda: deque(maxlen=20_000))

    def as_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "models": dict(self.models),
            "outcomes": dict(self.outcomes),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "last": self.last,
            "last_headers": self.last_headers,
            "recent": list(self.recent),
            "arrivals": [list(item) for item in self.arrivals],
        }


class FakeOpenAI:
    """The server, in-process. `configure` and `requests` do what the control endpoints do."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        mode: str = "fence",
        script: Iterable[str] = (),
        retry_after: float | None = 1.0,
        slow_seconds: float = 30.0,
        api_key: str | None = None,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.config = FakeConfig()
        self.log = RequestLog()
        self._directive_uses: Counter[str] = Counter()
        self._rng = random.Random(0)
        self._started = time.monotonic()
        self.configure(
            latency=latency,
            mode=mode,
            script=list(script),
            retry_after=retry_after,
            slow_seconds=slow_seconds,
            api_key=api_key,
        )
        self._initial = dataclasses.replace(self.config, script=deque(self.config.script))
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> Self:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/chat/completions", self._chat)
        app.router.add_get("/_control", self._get_control)
        app.router.add_post("/_control", self._post_control)
        app.router.add_get("/_control/requests", self._get_requests)
        app.router.add_delete("/_control/requests", self._delete_requests)
        app.router.add_get("/health", self._health)
        # handler_cancellation: a client that gave up (timeout test, benchmark abort) frees its
        # handler at once instead of leaving it asleep until `slow_seconds` have passed.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        # A deep backlog: a benchmark opens a thousand connections at once.
        site = web.TCPSite(self._runner, self.host, self._requested_port, backlog=4096)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to give an OpenAI client as `base_url`."""
        return f"{self.url}/v1"

    # --- steering ----------------------------------------------------------------------------

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Apply a control change (the keys of POST /_control), all or nothing.

        Raises ValueError (or TypeError) on bad input, leaving the configuration as it was."""
        unknown = set(changes) - _CONTROL_KEYS
        if unknown:
            raise ValueError(f"unknown control key(s): {', '.join(sorted(unknown))}")
        base = self._initial_config() if changes.get("reset") else self.config
        script = deque(base.script)
        if "script" in changes:
            script = deque(_check_outcomes(changes["script"]))
        if "append" in changes:
            script.extend(_check_outcomes(changes["append"]))
        retry_after = changes.get("retry_after", base.retry_after)
        chance = dict(base.chance)
        if "chance" in changes:
            chance = {str(k): float(v) for k, v in dict(changes["chance"] or {}).items()}
            _check_outcomes(chance)
            if any(p < 0 for p in chance.values()) or sum(chance.values()) > 1:
                raise ValueError("chance: probabilities must be >= 0 and add up to at most 1")
        if "seed" in changes:
            self._rng = random.Random(changes["seed"])
        updated = FakeConfig(
            latency=max(0.0, float(changes.get("latency", base.latency))),
            mode=_check_outcomes([changes.get("mode", base.mode)])[0],
            script=script,
            retry_after=None if retry_after is None else float(retry_after),
            slow_seconds=max(0.0, float(changes.get("slow_seconds", base.slow_seconds))),
            api_key=changes.get("api_key", base.api_key) or None,
            chance=chance,
            reject_response_format=bool(
                changes.get("reject_response_format", base.reject_response_format)
            ),
            stream_chunk=int(changes.get("stream_chunk", base.stream_chunk)),
            stream_seconds=max(0.0, float(changes.get("stream_seconds", base.stream_seconds))),
        )
        if changes.get("reset"):
            self.log = RequestLog()
            self._directive_uses.clear()
        self.config = updated
        return updated.as_json()

    def _initial_config(self) -> FakeConfig:
        # What `reset` returns to: the configuration this server was started with.
        return dataclasses.replace(self._initial, script=deque(self._initial.script))

    def requests(self) -> dict[str, Any]:
        return self.log.as_json()

    def clear_requests(self) -> None:
        self.log = RequestLog()

    # --- control endpoints -------------------------------------------------------------------

    async def _health(self, _: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def _get_control(self, _: web.Request) -> web.Response:
        return web.json_response(self.config.as_json())

    async def _post_control(self, request: web.Request) -> web.Response:
        try:
            changes = await request.json()
            if not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object")
            return web.json_response(self.configure(**changes))
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)

    async def _get_requests(self, _: web.Request) -> web.Response:
        return web.json_response(self.requests())

    async def _delete_requests(self, _: web.Request) -> web.Response:
        self.clear_requests()
        return web.json_response(self.requests())

    # --- the API -----------------------------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        if (
            self.config.api_key is not None
            and request.headers.get("Authorization") != f"Bearer {self.config.api_key}"
        ):
            return _error(
                401,
                "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            )
        try:
            body = await request.json()
        except ValueError:
            return _error(
                400,
                "We could not parse the JSON body of your request.",
                "invalid_request_error",
                None,
            )
        problem = _invalid(body)
        if problem:
            return _error(400, problem, "invalid_request_error", None)

        prompt = _user_text(body["messages"])
        outcome = self._choose(prompt)
        log = self.log
        log.count += 1
        log.models[str(body["model"])] += 1
        log.outcomes[outcome] += 1
        log.arrivals.append((round(time.monotonic() - self._started, 3), outcome))
        log.last = body
        log.last_headers = {
            name.lower(): value
            for name, value in request.headers.items()
            if name.lower() in ("user-agent", "x-client-request-id", "content-type")
            or name.lower().startswith("x-stainless")
        }
        log.last_headers["authorization"] = (
            "present" if "Authorization" in request.headers else "absent"
        )
        log.recent.append(body)
        log.in_flight += 1
        log.max_in_flight = max(log.max_in_flight, log.in_flight)
        try:
            delay = self.config.slow_seconds if outcome == "slow" else self.config.latency
            if delay:
                await asyncio.sleep(delay)
            return await self._answer(request, outcome, body, prompt)
        finally:
            log.in_flight -= 1

    def _choose(self, prompt: str) -> str:
        directive = _DIRECTIVE.search(prompt)
        if directive and is_outcome(directive.group(1)):
            limit = directive.group(2)
            if limit is None:
                return directive.group(1)
            self._directive_uses[prompt] += 1
            if self._directive_uses[prompt] <= int(limit):
                return directive.group(1)
        if self.config.script:
            return self.config.script.popleft()
        if self.config.chance:
            draw = self._rng.random()
            for outcome, probability in self.config.chance.items():
                if draw < probability:
                    return outcome
                draw -= probability
        return self.config.mode

    async def _answer(
        self, request: web.Request, outcome: str, body: dict[str, Any], prompt: str
    ) -> web.StreamResponse:
        model = str(body["model"])
        if outcome.startswith("stream_") and not body.get("stream"):
            outcome = "500" if outcome == "stream_error" else "hang_up"
        if _STATUS.match(outcome):
            return self._status_error(int(outcome), model)
        if outcome == "quota":
            return _error(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                "insufficient_quota",
            )
        if outcome == "garbage":
            return web.Response(
                text="<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
            )
        if outcome == "hang_up":
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)  # never arrives: the connection is gone
        if body.get("response_format") and self.config.reject_response_format:
            return _error(
                400,
                "Invalid parameter: 'response_format' of type 'json_schema' is not supported "
                "with this model.",
                "invalid_request_error",
                None,
            )
        structured = (body.get("response_format") or {}).get("type") == "json_schema"
        # A repair's conversation repeats the description first: the drawing is of that.
        svg = drawing(_user_text(body["messages"][:2]) if len(body["messages"]) > 2 else prompt)
        content: str | None
        refusal: str | None = None
        finish_reason = "stop"
        if outcome in ("ok", "fence", "slow", "stream_error", "stream_cut") and structured:
            content = json.dumps({"svg": svg})
        elif outcome in ("ok", "fence", "slow", "stream_error", "stream_cut"):
            content = (
                f"Here is an SVG illustration of {_quote(prompt)}:\n\n```svg\n{svg}\n```\n\n"
                "It uses simple shapes so it scales cleanly to any size."
            )
        elif outcome == "plain":
            content = svg
        elif outcome == "xml":
            content = f'```xml\n<?xml version="1.0" encoding="UTF-8"?>\n{svg}\n```'
        elif outcome == "multi":
            other = drawing(prompt + " (variant)")
            content = f"Option 1:\n```svg\n{svg}\n```\nOption 2:\n```svg\n{other}\n```"
        elif outcome == "prose":
            content = (
                f"What a lovely idea! Picture {_quote(prompt)} drawn with soft shapes and a warm palette. "
                "You could start with a circle for the main form and add details around it."
            )
        elif outcome == "broken":
            content = f"```svg\n{svg[: len(svg) // 2]}\n```"
        elif outcome == "truncated":  # cut off inside an element, no closing tags, no fence
            content = svg[: len(svg) * 2 // 3]
        elif outcome == "no_viewbox":  # neither a viewBox nor a size: the canvas is unknown
            content = svg.replace(' viewBox="0 0 512 512" width="512" height="512"', "")
        elif outcome == "blank":  # well formed, draws nothing visible
            content = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><defs/></svg>'
        elif outcome == "wrapped":  # prose on both sides, no fence
            content = f"Sure! Here you go: {svg} Let me know if you want changes."
        elif outcome == "length":
            content = f"```svg\n{svg[: len(svg) // 2]}"
            finish_reason = "length"
        elif outcome == "refuse":
            content = None
            refusal = "I'm sorry, but I can't help with that request."
        elif outcome == "content_filter":
            content = None
            finish_reason = "content_filter"
        else:  # "empty"
            content = ""
        completion = _completion(model, content, refusal, finish_reason, prompt)
        if body.get("stream"):
            return await self._stream(request, completion, body, outcome)
        return web.json_response(completion, headers=_headers())

    async def _stream(
        self, request: web.Request, completion: dict[str, Any], body: dict[str, Any], outcome: str
    ) -> web.StreamResponse:
        """The same answer as server-sent chunks (`chat.completion.chunk`), the way the API
        streams: the content in pieces of `stream_chunk` characters spread over `stream_seconds`,
        then the finish reason, the usage when asked for (`stream_options.include_usage`), and
        `[DONE]`. `stream_error` and `stream_cut` stop after half the pieces: an `error` event
        (as the API reports a failure it meets mid-stream), or the connection closed."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", **_headers()})
        await response.prepare(request)
        message = completion["choices"][0]["message"]
        base = {key: completion[key] for key in ("id", "created", "model", "system_fingerprint")}
        base["object"] = "chat.completion.chunk"

        async def send(choices: list[dict[str, Any]], **extra: Any) -> None:
            chunk = {**base, "choices": choices, **extra}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send([{"index": 0, "delta": {"role": "assistant", "content": ""}}])
        text, field_name = (message["content"] or "", "content")
        if message["refusal"]:
            text, field_name = message["refusal"], "refusal"
        size = max(1, self.config.stream_chunk)
        pieces = [text[i : i + size] for i in range(0, len(text), size)]
        pause = self.config.stream_seconds / max(1, len(pieces))
        for number, piece in enumerate(pieces):
            if pause:
                await asyncio.sleep(pause)
            if outcome.startswith("stream_") and number == len(pieces) // 2:
                return await self._broken_stream(request, response, outcome)
            await send([{"index": 0, "delta": {field_name: piece}}])
        finish = completion["choices"][0]["finish_reason"]
        await send([{"index": 0, "delta": {}, "finish_reason": finish}])
        if (body.get("stream_options") or {}).get("include_usage"):
            await send([], usage=completion["usage"])
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _broken_stream(
        self, request: web.Request, response: web.StreamResponse, outcome: str
    ) -> web.StreamResponse:
        if outcome == "stream_error":
            error = {"message": "The server had an error processing your request.", "type": "server_error"}
            await response.write(f"data: {json.dumps({'error': error})}\n\n".encode())
            await response.write_eof()
        elif request.transport is not None:
            request.transport.close()
        return response

    def _status_error(self, status: int, model: str) -> web.Response:
        if status == 429:
            extra = (
                {}
                if self.config.retry_after is None
                else {"Retry-After": f"{self.config.retry_after:g}"}
            )
            return _error(
                429,
                f"Rate limit reached for {model} in organization org-fake on requests per min (RPM): "
                "Limit 3, Used 3, Requested 1. Please try again in 20s.",
                "requests",
                "rate_limit_exceeded",
                extra,
            )
        messages = {
            400: (
                "Invalid prompt: your prompt was flagged as potentially violating our usage policy.",
                "invalid_request_error",
                "invalid_prompt",
            ),
            401: (
                "Incorrect API key provided: sk-fake***.",
                "invalid_request_error",
                "invalid_api_key",
            ),
            403: (
                "Project does not have access to this model.",
                "invalid_request_error",
                "model_not_available",
            ),
            404: (
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
            ),
            500: (
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                None,
            ),
            502: ("Bad gateway.", "server_error", None),
            503: (
                "The engine is currently overloaded, please try again later.",
                "server_error",
                None,
            ),
        }
        message, kind, code = messages.get(
            status,
            (
                f"Fake error {status}.",
                "invalid_request_error" if status < 500 else "server_error",
                None,
            ),
        )
        return _error(status, message, kind, code)


def drawing(prompt: str) -> str:
    """A valid SVG that depends on the prompt, so tests can tell answers apart."""
    digest = hashlib.sha256(prompt.encode()).digest()
    hue = digest[0] * 360 // 256
    radius = 60 + digest[1] % 120
    label = escape(prompt[:60])
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="512" height="512">'
        f"<title>{label}</title>"
        f'<rect width="512" height="512" fill="hsl({hue}, 40%, 92%)"/>'
        f'<circle cx="256" cy="230" r="{radius}" fill="hsl({hue}, 70%, 50%)"/>'
        f'<rect x="{156 + digest[2] % 40}" y="380" width="200" height="24" rx="12" fill="hsl({(hue + 180) % 360}, 60%, 45%)"/>'
        f'<text x="256" y="470" text-anchor="middle" font-family="sans-serif" font-size="20">{label}</text>'
        "</svg>"
    )


def _quote(prompt: str) -> str:
    return f"“{prompt[:80]}”"


def _invalid(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "The request body must be a JSON object."
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array"
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "developer",
            "user",
            "assistant",
            "tool",
        ):
            return "Invalid message: each message needs a valid 'role'."
    return None


def _user_text(messages: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for message in messages:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
            parts.extend(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "\n".join(parts)


def _completion(
    model: str, content: str | None, refusal: str | None, finish_reason: str, prompt: str
) -> dict[str, Any]:
    prompt_tokens = max(1, len(prompt) // 4) + 180  # roughly: the system prompt plus the user's
    completion_tokens = max(1, len(content or refusal or "") // 4)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": refusal,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"x-request-id": f"req_{uuid.uuid4().hex}", "openai-processing-ms": "1", **(extra or {})}


def _error(
    status: int, message: str, kind: str, code: str | None, extra: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=_headers(extra))


# --- as a separate process ---------------------------------------------------------------------


class FakeOpenAIProcess:
    """A fake server in its own OS process, with a small synchronous control client."""

    def __init__(self, process: subprocess.Popen[str], base_url: str) -> None:
        self.process = process
        self.base_url = base_url
        self.url = base_url.removesuffix("/v1")
        self.port = int(self.url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int:
        return self.process.pid

    def configure(self, **changes: Any) -> dict[str, Any]:
        return self._call("POST", "/_control", changes)

    def requests(self) -> dict[str, Any]:
        return self._call("GET", "/_control/requests")

    def clear_requests(self) -> dict[str, Any]:
        return self._call("DELETE", "/_control/requests")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            result: dict[str, Any] = json.load(response)
            return result

    def stop(self, timeout: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_process(
    *,
    port: int = 0,
    latency: float = 0.0,
    mode: str = "fence",
    script: Iterable[str] = (),
    retry_after: float | None = 1.0,
    api_key: str | None = None,
    chance: dict[str, float] | None = None,
    seed: int = 0,
    startup_timeout: float = 15.0,
) -> FakeOpenAIProcess:
    """Start `python -m tests.support.fake_openai` and wait until it listens."""
    command = [
        sys.executable,
        "-m",
        "tests.support.fake_openai",
        "--port",
        str(port),
        "--latency",
        str(latency),
    ]
    command += ["--mode", mode, "--script", ",".join(_check_outcomes(script))]
    command += ["--retry-after", "none" if retry_after is None else str(retry_after)]
    if api_key:
        command += ["--api-key", api_key]
    if chance:
        command += ["--chance", ",".join(f"{k}={v}" for k, v in chance.items())]
    command += ["--seed", str(seed)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    deadline = time.monotonic() + startup_timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            line = process.stdout.readline()
            if line.startswith(READY_PREFIX):
                return FakeOpenAIProcess(process, line.split()[1])
            if not line:  # exited before it was ready
                break
    with contextlib.suppress(Exception):
        process.kill()
        process.wait(5)
    raise RuntimeError(f"the fake OpenAI server did not start (exit code {process.poll()})")


@contextlib.contextmanager
def running_process(**options: Any) -> Iterator[FakeOpenAIProcess]:
    process = start_process(**options)
    try:
        yield process
    finally:
        process.stop()


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.fake_openai", description="An OpenAI-compatible fake server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=0, help="0 picks a free port (printed on the ready line)"
    )
    parser.add_argument("--latency", type=float, default=float(env("FAKE_OPENAI_LATENCY", "0")))
    parser.add_argument("--mode", default=env("FAKE_OPENAI_MODE", "fence"))
    parser.add_argument(
        "--script", default=env("FAKE_OPENAI_SCRIPT", ""), help="comma-separated outcomes"
    )
    parser.add_argument(
        "--retry-after",
        default=env("FAKE_OPENAI_RETRY_AFTER", "1"),
        help="seconds for 429s, or 'none'",
    )
    parser.add_argument("--slow-seconds", type=float, default=30.0)
    parser.add_argument("--api-key", default=env("FAKE_OPENAI_API_KEY") or None)
    parser.add_argument(
        "--chance",
        default=env("FAKE_OPENAI_CHANCE", ""),
        help="outcome=probability pairs drawn per request, e.g. 429=0.1,500=0.05",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the chance draws")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    retry_after = None if args.retry_after.lower() == "none" else float(args.retry_after)
    fake = FakeOpenAI(
        host=args.host,
        port=args.port,
        latency=args.latency,
        mode=args.mode,
        script=[item for item in args.script.split(",") if item],
        retry_after=retry_after,
        slow_seconds=args.slow_seconds,
        api_key=args.api_key,
    )
    chance = dict(item.split("=", 1) for item in args.chance.split(",") if item)
    fake.configure(chance={k: float(v) for k, v in chance.items()}, seed=args.seed)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    async with fake:
        print(f"{READY_PREFIX} {fake.base_url}", flush=True)
        await stopping.wait()


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    try:
        _check_outcomes([args.mode, *[item for item in args.script.split(",") if item]])
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
