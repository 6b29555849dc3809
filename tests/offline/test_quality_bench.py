"""bench/quality.py on a small slice: its figures, its repair rule and its contact sheet."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from bench import quality

from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from chatsvg.adapters.offline import render


def test_the_offline_run_prints_its_figures_and_writes_a_contact_sheet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "sheet.png"
    args = ["--prompts", "3", "--styles", "flat,outline", "--sheet", str(sheet), "--cell", "64"]
    assert quality.main(args) == 0
    out = capsys.readouterr().out
    result = json.loads(out.split("BENCH_RESULT ", 1)[1])
    assert result["answers"] == 6 and result["model"] == "offline"
    assert result["valid_percent"] == result["rendered_percent"] == 100.0
    assert result["repaired_percent"] == 0.0 and result["subjects_drawn_percent"] == 100.0
    png = sheet.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width > 2 * 64 and height > 3 * 64  # a column per style, a row per prompt


def test_repair_means_the_sanitizer_had_to_change_what_is_drawn() -> None:
    sanitizer = SvgSanitizer()
    clean = render("a cat", "flat")
    assert not quality.needed_repair(clean, sanitizer.sanitize(clean))
    hostile = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><script>1</script><rect width="8" height="8" onclick="x()"/></svg>'
    assert quality.needed_repair(hostile, sanitizer.sanitize(hostile))
    no_viewbox = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>'
    assert quality.needed_repair(no_viewbox, sanitizer.sanitize(no_viewbox))


def test_a_blank_picture_is_not_counted_as_rendered() -> None:
    blank = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"/>'
    assert not quality.not_blank(blank)
    assert quality.not_blank(render("a cat", "flat"))
