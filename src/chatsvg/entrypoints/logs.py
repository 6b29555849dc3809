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
        try:
            return self._encode(line).decode()
        except (TypeError, ValueError, msgspec.EncodeError):
            # A key JSON cannot carry (not a string), or a value its repr cannot stand in for.
            return self._encode({str(k): _plain(v) for k, v in line.items()}).decode()


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
