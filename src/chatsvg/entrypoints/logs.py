"""Logging: JSON lines in production, readable lines locally (structlog); request and job ids
correlate.

Every record of a request carries its `request_id`, and every record of a task its job (or
mail) ids: `bind_log_context` puts them in a context variable of this module, which both
formatters read. Production's JSON lines are written by `JsonLines`, a formatter made for the
one kind of record this code emits (stdlib `logging` records with `extra=`): the same keys, in
the same order, as structlog's `ProcessorFormatter` chain wrote them (`tests/unit/test_logs.py`
compares the two), at about a fifth of its cost. The chain had cost about a sixth of an accepted
prompt's instructions for its one access line (docs/performance.md, seventh round).
"""

from __future__ import annotations

import contextvars
import logging
import sys
import time
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import msgspec
import structlog

from chatsvg.entrypoints.settings import Settings

_LOG_CONTEXT: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "chatsvg_log_context", default=MappingProxyType({})
)


def bind_log_context(**values: Any) -> None:
    """Add `values` to every record logged from here on in this context (request, task)."""
    _LOG_CONTEXT.set({**_LOG_CONTEXT.get(), **values})


def unbind_log_context(*keys: str) -> None:
    current = _LOG_CONTEXT.get()
    _LOG_CONTEXT.set({k: v for k, v in current.items() if k not in keys})


def _merge_log_context(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The structlog processor of the same context (the readable lines of local mode)."""
    for key, value in _LOG_CONTEXT.get().items():
        event_dict.setdefault(key, value)
    return event_dict


# What every LogRecord has; anything else on a record came with `extra=`.
_RECORD_KEYS = frozenset(logging.LogRecord("name", 0, "pathname", 0, "msg", (), None).__dict__) | {
    "message"
}


class JsonLines(logging.Formatter):
    """One JSON object per record: `event`, the log context, `level`, `logger`, the extras,
    `timestamp` (ISO 8601, UTC) and, with exc_info, `exception` (the formatted traceback).
    Values JSON cannot carry are written as their repr. Records that come from a structlog
    logger (none in this code base) go through structlog's own chain."""

    def __init__(self, structlog_formatter: logging.Formatter) -> None:
        super().__init__()
        self._structlog = structlog_formatter
        self._encode = msgspec.json.Encoder(enc_hook=repr).encode

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "_from_structlog", False):
            return self._structlog.format(record)
        line: dict[str, Any] = {"event": record.getMessage()}
        for key, value in _LOG_CONTEXT.get().items():
            line.setdefault(key, value)
        line["level"] = record.levelname.lower()
        line["logger"] = record.name
        for key, value in record.__dict__.items():
            if key not in _RECORD_KEYS:
                line[key] = value
        line["timestamp"] = (
            datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z")
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return self.encode_line(line)

    def encode_line(self, line: dict[str, Any]) -> str:
        try:
            return self._encode(line).decode()
        except (TypeError, ValueError, msgspec.EncodeError):
            # A key JSON cannot carry (not a string), or a value its repr cannot stand in for.
            return self._encode({str(k): _plain(v) for k, v in line.items()}).decode()


_ACCESS = logging.getLogger("chatsvg.access")
# The handler configure_logging installed with JsonLines, while it is the only one (production).
_JSON_HANDLER: list[logging.Handler] = []


def log_access(method: str, route: str, status: int, duration_ms: float) -> None:
    """The one line of each request ("chatsvg.access", INFO, `event` "request").

    In production the line is written by JsonLines straight to the handler's stream, with the
    same keys, order and values as through `logging` (tests/unit/test_logs.py compares them): a
    LogRecord, the logger walk and the handler call cost most of the line, and the line came with
    every request (about a tenth of an authenticated read's CPU, docs/performance.md, tenth
    round). Whenever anything else would see the record (another handler, a filter, a level that
    drops it, local mode's readable lines), it goes through `logging` as any record does."""
    if _JSON_HANDLER and _ACCESS.isEnabledFor(logging.INFO) and _only_our_handler_hears_access():
        handler = _JSON_HANDLER[0]
        formatter: JsonLines = handler.formatter  # type: ignore[assignment]
        line: dict[str, Any] = {"event": "request"}
        for key, value in _LOG_CONTEXT.get().items():
            line.setdefault(key, value)
        line["level"] = "info"
        line["logger"] = "chatsvg.access"
        line["method"] = method
        line["route"] = route
        line["status"] = status
        line["duration_ms"] = duration_ms
        line["timestamp"] = (
            datetime.fromtimestamp(time.time(), UTC).isoformat().replace("+00:00", "Z")
        )
        text = formatter.encode_line(line) + "\n"
        stream = handler.stream  # type: ignore[attr-defined]
        with handler.lock:  # type: ignore[union-attr]
            stream.write(text)
            stream.flush()
        return
    _ACCESS.info(
        "request",
        extra={"method": method, "route": route, "status": status, "duration_ms": duration_ms},
    )


def _only_our_handler_hears_access() -> bool:
    """True when a record of "chatsvg.access" would reach JsonLines' handler and nothing else:
    no filter on the logger, no handler on it or its ancestors but the root's one, which has
    no filter and lets INFO through (`logging`'s own rules for where a record goes)."""
    if _ACCESS.filters:
        return False
    logger: logging.Logger | None = _ACCESS
    while logger is not None and logger.parent is not None:
        if logger.handlers or not logger.propagate:
            return False
        logger = logger.parent
    handler = _JSON_HANDLER[0]
    return (
        logger is not None
        and len(logger.handlers) == 1
        and logger.handlers[0] is handler
        and not handler.filters
        and handler.level <= logging.INFO
    )


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record comes, not the one at set-up: a test
    runner swaps it per test, and a server thread outliving a test must not write to a closed
    one ("I/O operation on closed file")."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(settings: Settings) -> None:
    json_logs = settings.log_json if settings.log_json is not None else not settings.local
    shared: list[structlog.types.Processor] = [
        _merge_log_context,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json_logs
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = _StderrHandler()
    handler.setFormatter(JsonLines(formatter) if json_logs else formatter)
    _JSON_HANDLER[:] = [handler] if json_logs else []
    # Neither format writes where a call was made from, nor its thread or process: the logging
    # HOWTO's "Optimization" switches spare every record the frame walk and the lookups (about
    # 6 of the 20 us a line costs here).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # One INFO line per outgoing HTTP call (model, storage) is noise at thousands of jobs in flight;
    # Alembic announces each of its plugins at INFO whenever it is set up.
    for chatty in (
        "httpx",
        "httpx2",
        "botocore",
        "aiobotocore",
        "urllib3",
        "alembic.runtime.plugins",
    ):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
