"""SvgInspector: what makes a sanitized SVG unusable as a picture, in words a model can act on."""

from __future__ import annotations

import pytest

from chatsvg.adapters.generation.svg_inspector import SvgInspector
from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from chatsvg.adapters.offline_generator import render
from tests.support.fake_openai import drawing

NS = 'xmlns="http://www.w3.org/2000/svg"'


@pytest.fixture
def check() -> object:
    sanitizer, inspector = SvgSanitizer(), SvgInspector()
    return lambda svg: inspector.problem(sanitizer.sanitize(svg))


def test_real_drawings_are_usable(check: object) -> None:
    assert check(drawing("a fox")) is None  # type: ignore[operator]
    for style in ("outline", "3d", "line-art"):
        assert check(render("a cat under the moon", style)) is None  # type: ignore[operator]
    assert check(f'<svg {NS} viewBox="0 0 10 10"><rect width="5" height="5"/></svg>') is None  # type: ignore[operator]


@pytest.mark.parametrize(
    ("svg", "words"),
    [
        (f"<svg {NS}></svg>", "draws nothing"),
        (f'<svg {NS} viewBox="0 0 9 9"><defs><circle r="4"/></defs></svg>', "draws nothing"),
        (f'<svg {NS} viewBox="0 0 9 9"><rect width="0" height="9"/></svg>', "draws nothing"),
        (f'<svg {NS} viewBox="0 0 9 9"><circle r="4" opacity="0"/></svg>', "draws nothing"),
        (
            f'<svg {NS} viewBox="0 0 9 9"><g display="none"><circle r="4"/></g></svg>',
            "draws nothing",
        ),
        (f'<svg {NS} viewBox="0 0 9 9"><path d=""/></svg>', "draws nothing"),
        (
            f'<svg {NS} viewBox="0 0 9 9"><rect width="9" height="9" fill="#abc"/></svg>',
            "one flat colour",
        ),
        (
            f'<svg {NS} viewBox="0 0 9 9"><circle cx="50" cy="50" r="4" fill="red"/></svg>',
            "one flat colour",  # drawn off the canvas: renders transparent
        ),
    ],
)
def test_unusable_drawings_are_named(check: object, svg: str, words: str) -> None:
    problem = check(svg)  # type: ignore[operator]
    assert problem is not None and words in problem


def test_without_a_canvas_or_when_too_big() -> None:
    inspector = SvgInspector(max_bytes=200)
    assert "no viewBox" in (
        inspector.problem(f'<svg {NS}><rect width="5" height="5"/></svg>') or ""
    )
    big = f'<svg {NS} viewBox="0 0 9 9">' + '<rect width="5" height="5"/>' * 20 + "</svg>"
    assert "larger than" in (inspector.problem(big) or "")
    assert "not well-formed" in (SvgInspector().problem("<svg") or "")
    assert "root element" in (SvgInspector().problem("<g/>") or "")
