"""What an OpenAI error says beyond its status: whether a timeout really was one, and how long
the provider asks us to wait (Retry-After)."""

from __future__ import annotations

import email.utils
import math
import time
from typing import Any

# A Retry-After beyond this is treated as this: a job should come back within minutes, not sit
# for an hour because a proxy sent a silly header. The worker never waits less than its own backoff.
RETRY_AFTER_CAP = 300.0


def really_timed_out(exc: BaseException) -> bool:
    # The aiohttp transport reports every aiohttp connection error (refused, reset, server hung
    # up) as a connect *timeout*. A real timeout has a TimeoutError somewhere in its causes.
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    if any(isinstance(cause, TimeoutError) for cause in chain):
        return True
    return not any(type(cause).__module__.startswith("aiohttp") for cause in chain)


def retry_after_seconds(headers: Any) -> float | None:
    """The provider's wait hint: `retry-after-ms`, else `retry-after` in seconds or as an HTTP date."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return _bounded(float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return _bounded(float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT even when it fails to say so
        return None
    return _bounded(when.timestamp() - time.time())


def _bounded(seconds: float) -> float | None:
    if math.isnan(seconds) or seconds < 0:
        return None
    return min(seconds, RETRY_AFTER_CAP)
