"""The log handler writes to the process's current standard error."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from chatsvg.entrypoints.logs import configure_logging
from chatsvg.entrypoints.settings import load_settings


def test_records_go_to_the_stderr_of_the_moment_not_the_one_at_set_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    """A test runner swaps sys.stderr per test; a server thread that outlives the test where
    logging was set up wrote to the closed one ("--- Logging error --- I/O operation on closed
    file" in every suite run)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        at_setup = io.StringIO()
        monkeypatch.setattr(sys, "stderr", at_setup)
        configure_logging(load_settings({}, data_dir=str(tmp_path)))
        at_setup.close()  # the test that set logging up is over
        later = io.StringIO()
        monkeypatch.setattr(sys, "stderr", later)
        logging.getLogger("chatsvg.test").warning("still heard")
        assert "still heard" in later.getvalue() and "Logging error" not in later.getvalue()
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
