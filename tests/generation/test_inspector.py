"""SvgInspector: what makes a sanitized SVG unusable as a picture, in words a model can act on."""

from __future__ import annotations

import random
import struct
import zlib

import pytest
import resvg_py

from chatsvg.adapters.generation.svg_inspector import SvgInspector, distinct_colours
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


def _png(width: int, rows: list[tuple[int, bytes]]) -> bytes:
    """An 8-bit RGBA PNG with these scanlines (filter type, filtered bytes)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 6, 0, 0, 0)
    raw = b"".join(bytes([method]) + data for method, data in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _reference_colours(width: int, rows: list[tuple[int, bytes]], stop_at: int) -> int:
    """The PNG specification's unfiltering, byte by byte, counting colours row by row."""
    stride, previous, colours = width * 4, bytearray(width * 4), set[bytes]()
    for method, data in rows:
        row = bytearray(data)
        for x in range(stride):
            a = row[x - 4] if x >= 4 else 0
            b = previous[x]
            c = previous[x - 4] if x >= 4 else 0
            if method == 1:
                row[x] = (row[x] + a) & 0xFF
            elif method == 2:
                row[x] = (row[x] + b) & 0xFF
            elif method == 3:
                row[x] = (row[x] + ((a + b) >> 1)) & 0xFF
            elif method == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        colours.update(bytes(row[i : i + 4]) for i in range(0, stride, 4))
        if len(colours) >= stop_at:
            break
        previous = row
    return len(colours)


def test_colours_are_counted_as_the_png_specification_decodes_them() -> None:
    """Every filter type, on rows that are flat, flat but for the first pixel, mostly zero and
    random: the quick paths (a flat row under Sub, Up and Paeth; Up as one addition) count what
    the byte-by-byte decoding counts."""
    rng = random.Random(25)
    for _ in range(3000):
        width = rng.choice([1, 2, 3, 8, 32])
        rows = []
        for _ in range(rng.choice([1, 2, 5, 12])):
            stride, kind = width * 4, rng.random()
            if kind < 0.4:
                data = bytes(stride)
            elif kind < 0.6:
                data = rng.randbytes(4) + bytes(stride - 4)
            elif kind < 0.8:
                data = bytes(rng.choice([0, 0, 0, rng.randrange(256)]) for _ in range(stride))
            else:
                data = rng.randbytes(stride)
            rows.append((rng.choice([0, 1, 2, 3, 4]), data))
        png = _png(width, rows)
        for stop_at in (1, 2, 3, 10**6):
            assert distinct_colours(png, stop_at=stop_at) == _reference_colours(
                width, rows, stop_at
            )


def test_colours_of_rendered_drawings() -> None:
    """What resvg writes: a flat picture is one colour, a drawing more than one."""
    flat = f'<svg {NS} viewBox="0 0 9 9"><rect width="9" height="9" fill="#abc"/></svg>'
    for svg, several in ((flat, False), (drawing("a fox"), True)):
        png = bytes(resvg_py.svg_to_bytes(svg_string=svg, width=32))
        assert (distinct_colours(png, stop_at=2) > 1) is several


def test_text_counts_when_it_is_all_a_picture_shows(check: object) -> None:
    """Shapes are drawn without the fonts first; text on a flat background is still a picture,
    drawn with them, and text the colour of the background is still blank."""
    words = '<text x="10" y="60" font-size="40" fill="#123">Hello</text>'
    background = '<rect width="200" height="100" fill="#fed"/>'
    only_text = f'<svg {NS} viewBox="0 0 200 100">{background}{words}</svg>'
    if distinct_colours(resvg_py.svg_to_bytes(svg_string=only_text, width=32), stop_at=2) < 2:
        pytest.skip("no system font draws text on this machine")
    assert check(only_text) is None  # type: ignore[operator]
    unseen = words.replace("#123", "#fed")
    hidden = f'<svg {NS} viewBox="0 0 200 100">{background}{unseen}</svg>'
    assert "one flat colour" in (check(hidden) or "")  # type: ignore[operator]
    shapes = (
        f'<svg {NS} viewBox="0 0 200 100">{background}<circle cx="50" cy="50" r="30"/>{words}</svg>'
    )
    assert check(shapes) is None  # type: ignore[operator]
