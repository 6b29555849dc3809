"""The log handler writes to the process's current standard error."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from chatsvg.entrypoints.logs import (
    JsonLines,
    bind_log_context,
    configure_logging,
    log_access,
    unbind_log_context,
)
from chatsvg.entrypoints.settings import load_settings


@contextmanager
def root_logging_restored() -> Iterator[logging.Logger]:
    """The root logger; its handlers and level as they were once the block ends (each test sets
    logging up itself, inside its body: a fixture's set-up runs with pytest's own capture
    handlers on the root, which keeps the access line off its direct path)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        yield root
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


@contextmanager
def json_logging(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[io.StringIO]:
    """Production's logging (JSON lines), writing to a fresh standard error, which it yields."""
    with root_logging_restored():
        configure_logging(load_settings({"CHATSVG_LOG_JSON": "true"}, data_dir=str(tmp_path)))
        out = io.StringIO()
        monkeypatch.setattr(sys, "stderr", out)
        yield out


def test_records_go_to_the_stderr_of_the_moment_not_the_one_at_set_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    """A test runner swaps sys.stderr per test; a server thread that outlives the test where
    logging was set up wrote to the closed one ("--- Logging error --- I/O operation on closed
    file" in every suite run)."""
    with root_logging_restored():
        at_setup = io.StringIO()
        monkeypatch.setattr(sys, "stderr", at_setup)
        configure_logging(load_settings({}, data_dir=str(tmp_path)))
        at_setup.close()  # the test that set logging up is over
        later = io.StringIO()
        monkeypatch.setattr(sys, "stderr", later)
        logging.getLogger("chatsvg.test").warning("still heard")
        assert "still heard" in later.getvalue() and "Logging error" not in later.getvalue()


def _records() -> list[logging.LogRecord]:
    """What this code base logs: messages with and without %-args, extras of every JSON kind
    and some JSON has no kind for, and exceptions."""
    records = [
        logging.LogRecord("chatsvg.access", logging.INFO, __file__, 1, "request", (), None),
        logging.LogRecord("chatsvg.x", logging.WARNING, __file__, 2, "hello %s", ("world",), None),
        logging.LogRecord("chatsvg.y", logging.CRITICAL, __file__, 3, "n=%d", (3,), None),
    ]
    records[0].__dict__.update(method="POST", route="/api/x", status=202, duration_ms=2.31)
    records[1].__dict__.update(
        job_id="j1", ids=["a", "b"], nested={"k": [1, 2.5, None, True]}, path=Path("/tmp/x")
    )
    try:
        raise ValueError("bad")
    except ValueError:
        records.append(
            logging.LogRecord(
                "chatsvg.z", logging.ERROR, __file__, 4, "boom", (), sys.exc_info(), "f"
            )
        )
    records[-1].__dict__["error"] = "ValueError"
    return records


def test_json_lines_are_what_the_structlog_chain_wrote(tmp_path: Path) -> None:
    """JsonLines (production) writes the keys, values and order of structlog's
    ProcessorFormatter chain it replaced, request/job context included; only the timestamp is
    taken from the record rather than from the clock at formatting."""
    with root_logging_restored() as root:
        configure_logging(load_settings({"CHATSVG_LOG_JSON": "true"}, data_dir=str(tmp_path)))
        ours = root.handlers[0].formatter
        assert isinstance(ours, JsonLines)
        chain = ours._structlog
        bind_log_context(request_id="req-1", job_id="from-context")
        try:
            for record in _records():
                theirs = json.loads(chain.format(logging.makeLogRecord(record.__dict__)))
                line = json.loads(ours.format(logging.makeLogRecord(record.__dict__)))
                stamp = line.pop("timestamp")
                assert stamp.endswith("Z") and datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                theirs.pop("timestamp")
                if "path" in theirs:  # JSON has no path: both write a readable stand-in
                    assert line.pop("path") == repr(Path("/tmp/x"))
                    assert "/tmp/x" in theirs.pop("path")
                assert list(line.items()) == list(theirs.items())
        finally:
            unbind_log_context("request_id", "job_id")
        assert "request_id" not in ours.format(_records()[0])
        # No caller, thread or process is looked up for a record: neither format writes them.
        seen: list[logging.LogRecord] = []
        root.handlers[0].addFilter(lambda record: bool(seen.append(record)) or True)
        logging.getLogger("chatsvg.test").warning("looked up?")
        assert (seen[0].funcName, seen[0].threadName, seen[0].process) == (
            "(unknown function)",
            None,
            None,
        )


def test_the_access_line_written_directly_is_the_line_logging_writes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Production writes each request's access line straight to the handler's stream; it is the
    line the record would have made through `logging` (keys, order, values), the timestamp
    aside."""
    with json_logging(monkeypatch, tmp_path) as out:
        logging.getLogger("chatsvg")  # the ancestor the app's loggers make, between it and root
        access = logging.getLogger("chatsvg.access")
        handled: list[logging.LogRecord] = []
        original = access.handle
        monkeypatch.setattr(access, "handle", lambda r: (handled.append(r), original(r)))
        bind_log_context(request_id="req-7")
        log_access("POST", "/api/svg/generate-svg", 202, 3.25)
        assert handled == []  # written directly: no record was made
        access.info(
            "request",
            extra={
                "method": "POST",
                "route": "/api/svg/generate-svg",
                "status": 202,
                "duration_ms": 3.25,
            },
        )
        unbind_log_context("request_id")
        assert len(handled) == 1
        direct, through_logging = (json.loads(line) for line in out.getvalue().splitlines())
        assert list(direct) == list(through_logging)
        stamp = direct.pop("timestamp")
        through_logging.pop("timestamp")
        assert (
            direct
            == through_logging
            == {
                "event": "request",
                "request_id": "req-7",
                "level": "info",
                "logger": "chatsvg.access",
                "method": "POST",
                "route": "/api/svg/generate-svg",
                "status": 202,
                "duration_ms": 3.25,
            }
        )
        assert stamp.endswith("Z") and datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_the_access_line_goes_through_logging_when_anything_else_would_see_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another handler (here pytest's), a filter or a level that drops the record: the line takes
    the `logging` path, so whatever listens gets its record, and a dropped one is not written."""
    root = logging.getLogger()
    with json_logging(monkeypatch, tmp_path) as out:
        root.addHandler(caplog.handler)  # configure_logging replaced the root's handlers
        try:
            log_access("GET", "/api/auth/current-user", 200, 1.5)
        finally:
            root.removeHandler(caplog.handler)
        heard = [r for r in caplog.records if r.name == "chatsvg.access"]
        assert [(r.getMessage(), r.__dict__["route"], r.__dict__["status"]) for r in heard] == [
            ("request", "/api/auth/current-user", 200)
        ]
        assert json.loads(out.getvalue())["route"] == "/api/auth/current-user"  # ours still writes
        out.truncate(0)
        out.seek(0)
        access = logging.getLogger("chatsvg.access")
        access.setLevel(logging.WARNING)
        try:
            log_access("GET", "/api/auth/current-user", 200, 1.5)
        finally:
            access.setLevel(logging.NOTSET)
        assert out.getvalue() == ""
        on_ancestor = logging.StreamHandler(io.StringIO())
        logging.getLogger("chatsvg").addHandler(on_ancestor)
        try:
            log_access("GET", "/api/auth/current-user", 200, 1.5)
        finally:
            logging.getLogger("chatsvg").removeHandler(on_ancestor)
        assert "request" in on_ancestor.stream.getvalue()
        out.truncate(0)
        out.seek(0)
        dropper = logging.Filter("somewhere.else")
        root.handlers[0].addFilter(dropper)
        try:
            log_access("GET", "/api/auth/current-user", 200, 1.5)
        finally:
            root.handlers[0].removeFilter(dropper)
        assert out.getvalue() == ""
