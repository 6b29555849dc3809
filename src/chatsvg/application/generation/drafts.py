"""Live drafts: while a streaming model writes, its owner is shown the drawing so far
(`generation-job:draft {jobId, svg, progress}`), cut at the last complete element, closed, and
sanitized like any result, at most four times a second. Drafts are best effort: never stored,
not ordered with the job's updates, and a client that ignores them misses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from chatsvg.application.ports import RealtimePublisher, SvgRejected, SvgSanitizer
from chatsvg.domain.generation.jobs import GenerationJob

log = logging.getLogger(__name__)

DRAFT_INTERVAL = 0.25  # seconds between two drafts of a job: at most 4 a second
_EXPECTED_CHARS = 8000  # about what a drawing takes; only for the rough progress figure
_DRAFT_PROGRESS = (10, 65)  # drafts move the progress within this range, below the 70 of done

_TAG = re.compile(
    r"""<!--.*?-->|<!\[CDATA\[.*?\]\]>|<(/?)([A-Za-z][\w:.-]*)((?:[^<>"']|"[^"]*"|'[^']*')*?)(/?)>""",
    re.S,
)
_JSON_SVG = re.compile(r'"svg"\s*:\s*"')
# A JSON string's body: runs of plain characters and escapes, possessive (no backtracking).
_JSON_STRING_BODY = re.compile(r'[^"\\]*+(?:\\.[^"\\]*+)*+', re.S)
_CUT_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{0,3})?$")


def partial_svg(text: str) -> str | None:
    """The SVG written so far, cut after its last complete element and closed; None while no
    element inside the root is complete. A JSON answer (`{"svg": "...`) is read as its string."""
    start_json = _JSON_SVG.search(text) if text.lstrip().startswith(("{", "```json")) else None
    if start_json is not None:
        text = _partial_json_string(text[start_json.end() :])
    start = text.find("<svg")
    if start < 0:
        return None
    stack: list[str] = []
    cut: tuple[int, list[str]] | None = None
    for tag in _TAG.finditer(text, start):
        closing, name, _, self_closing = tag.group(1, 2, 3, 4)
        if name is None:  # a comment or CDATA
            continue
        if closing:
            if not stack or stack[-1] != name:
                break  # not what we can close safely: stop at the last good cut
            stack.pop()
            if not stack:
                return text[start : tag.end()]  # the root is complete
        elif self_closing:
            if not stack:
                return text[start : tag.end()]  # <svg/>
        else:
            stack.append(name)
            continue
        cut = (tag.end(), list(stack))
    if cut is None:
        return None
    end, open_tags = cut
    return text[start:end] + "".join(f"</{name}>" for name in reversed(open_tags))


def _partial_json_string(body: str) -> str:
    """The value of a JSON string whose opening quote is behind us, as far as it is written."""
    # Up to the closing quote: characters and escapes (a backslash and the character after it);
    # a backslash at the very end is kept, for the cut escape below.
    end = _JSON_STRING_BODY.match(body).end()  # type: ignore[union-attr]  # matches ""
    if body.startswith("\\", end):
        end += 1
    raw = body[:end]
    # Drop an escape cut in half (a lone backslash, a \u with fewer than four digits). Only the
    # end can hold one: the last seven characters (five, and a newline `$` may stand before).
    raw = raw[:-7] + _CUT_ESCAPE.sub("", raw[-7:])
    try:
        value = json.loads(f'"{raw}"')
    except ValueError:
        return ""
    return value if isinstance(value, str) else ""


class DraftPublisher:
    """Fed the text of a streaming answer (`feed`, called between chunks: quick, no waiting);
    pushes a draft when at least DRAFT_INTERVAL has passed since the last one, the previous push
    is done, and the drawing has changed."""

    def __init__(
        self,
        job: GenerationJob,
        realtime: RealtimePublisher,
        sanitizer: SvgSanitizer,
        *,
        interval: float = DRAFT_INTERVAL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._job = job
        self._realtime = realtime
        self._sanitizer = sanitizer
        self._interval = interval
        self._monotonic = monotonic
        self._last_at = float("-inf")
        self._last_svg: str | None = None
        self._progress = max(job.progress, _DRAFT_PROGRESS[0])
        self._pushing: asyncio.Task[None] | None = None
        self.sent = 0

    def feed(self, text: str) -> None:
        now = self._monotonic()
        if now - self._last_at < self._interval:
            return
        if self._pushing is not None and not self._pushing.done():
            return
        partial = partial_svg(text)
        if partial is None:
            return
        try:
            svg = self._sanitizer.sanitize(partial)
        except SvgRejected:
            return
        if svg == self._last_svg:
            return
        self._last_at, self._last_svg = now, svg
        low, high = _DRAFT_PROGRESS
        share = min(1.0, len(text) / _EXPECTED_CHARS)
        self._progress = max(self._progress, low + int((high - low) * share))
        payload: dict[str, Any] = {"jobId": self._job.id, "svg": svg, "progress": self._progress}
        self._pushing = asyncio.get_running_loop().create_task(self._push(payload))
        self.sent += 1

    async def _push(self, payload: dict[str, Any]) -> None:
        try:
            await self._realtime.job_draft(self._job.user_id, payload)
        except Exception:
            log.warning("could not push a draft", extra={"job_id": self._job.id}, exc_info=True)

    async def close(self) -> None:
        """Wait for the last push, so that no draft follows the job's next update."""
        if self._pushing is not None:
            with contextlib.suppress(Exception):
                await self._pushing
