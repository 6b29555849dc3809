"""Sanitizing keeps real artwork: rendered before and after, the pixels match."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from tests.sanitizer.benign import LLM_SVGS, install_icon_sets
from tests.sanitizer.raster import differing_share, render, render_reference, same_picture

# Files that are allowed to render differently, with the reason (also in docs/svg-safety.md).
KNOWN_DIFFERENCES: dict[str, str] = {}


@pytest.fixture(scope="session")
def icon_sets() -> dict[str, list[Path]]:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed, so the icon sets cannot be fetched")
    return install_icon_sets()


@pytest.mark.parametrize("name", sorted(LLM_SVGS))
def test_llm_style_svg_renders_the_same(name: str) -> None:
    raw = LLM_SVGS[name]
    before = render_reference(raw)
    assert any(before.rgba()[3::4]), "the reference draws nothing, so the comparison would be empty"
    after = render(SvgSanitizer().sanitize(raw))
    assert differing_share(before, after) == 0.0


@pytest.mark.timeout(300)  # thousands of renders: generous for a loaded CI machine
@pytest.mark.parametrize(
    "package", ["feather-icons", "@tabler/icons", "heroicons", "bootstrap-icons"]
)
def test_icon_set_renders_the_same(icon_sets: dict[str, list[Path]], package: str) -> None:
    files = icon_sets[package]
    assert len(files) >= 250, f"only {len(files)} icons found in {package}"
    sanitizer = SvgSanitizer()
    different: dict[str, str] = {}
    blank = 0
    for index, path in enumerate(files):
        raw = path.read_text(encoding="utf-8")
        key = f"{package}/{path.parent.name}/{path.name}"
        try:
            before = render(raw)
            # Decoding is slow in pure Python, so only a sample proves the icons draw something.
            if index % 25 == 0 and not any(before.rgba()[3::4]):
                blank += 1
            if not same_picture(before, render(sanitizer.sanitize(raw))):
                different[key] = "pixels differ"
        except Exception as exc:  # a rejection or a render failure both count as a difference
            different[key] = repr(exc)
    assert blank == 0, "some reference renders are empty, so comparing them proves nothing"
    share_same = 1 - len(different) / len(files)
    assert share_same >= 0.98, (
        f"{share_same:.2%} identical; first differences: {list(different.items())[:10]}"
    )
    unexplained = {k: v for k, v in different.items() if k not in KNOWN_DIFFERENCES}
    assert not unexplained, f"differences not listed in docs/svg-safety.md: {unexplained}"
