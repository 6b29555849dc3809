"""SvgInspector: is a sanitized SVG a usable picture? It parses, it has a canvas (a viewBox or a
size), it holds visible drawable content, and resvg renders it to an image of more than one
colour. The answer is a short problem statement a model can act on in a repair, or None."""

from __future__ import annotations

import contextlib
import functools
import logging
import struct
import zlib
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

log = logging.getLogger(__name__)

_SVG = "{http://www.w3.org/2000/svg}"
_SHAPES = frozenset(
    {"path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "use", "image"}
)
# What is inside these is not drawn where it stands (it is referenced, or it is metadata).
_NOT_DRAWN = frozenset(
    {
        "defs",
        "symbol",
        "clipPath",
        "mask",
        "pattern",
        "marker",
        "linearGradient",
        "radialGradient",
        "filter",
        "title",
        "desc",
        "style",
    }
)
_RENDER_PX = 32


class SvgInspector:
    def __init__(self, *, render: bool = True, max_bytes: int = 512_000) -> None:
        self._max_bytes = max_bytes
        self._render = render and _resvg() is not None

    def problem(self, svg: str) -> str | None:
        if len(svg.encode("utf-8")) > self._max_bytes:
            kb = self._max_bytes // 1000
            return f"the SVG is larger than {kb} KB; draw it with fewer, simpler shapes"
        try:
            root = fromstring(svg, forbid_dtd=True)
        except (ET.ParseError, DefusedXmlException) as exc:
            return f"the SVG is not well-formed XML ({exc})"
        if root.tag != f"{_SVG}svg":
            return "the root element is not <svg>"
        if not root.get("viewBox") and not (root.get("width") and root.get("height")):
            return 'the <svg> element has no viewBox; give it viewBox="0 0 512 512"'
        if not _draws_something(root):
            return "the SVG draws nothing: it has no visible shapes"
        if self._render:
            try:
                colours = _colours(svg)
            except Exception as exc:  # resvg refused what the sanitizer passed
                log.info("resvg could not render a sanitized svg", extra={"error": str(exc)[:200]})
                return "the SVG could not be rendered"
            if colours <= 1:
                return (
                    "the picture renders as one flat colour (blank); draw the subject with "
                    "visible shapes in contrasting colours"
                )
        return None


def _draws_something(element: ET.Element) -> bool:
    for child in element:
        name = child.tag.removeprefix(_SVG)
        if name in _NOT_DRAWN or not _visible(child):
            continue
        if name in _SHAPES and _has_geometry(name, child):
            return True
        if _draws_something(child):
            return True
    return False


def _visible(element: ET.Element) -> bool:
    if element.get("display") == "none" or element.get("visibility") == "hidden":
        return False
    opacity = element.get("opacity")
    try:
        return opacity is None or float(opacity.strip().rstrip("%")) > 0
    except ValueError:
        return True


def _has_geometry(name: str, element: ET.Element) -> bool:
    if name == "path":
        return bool((element.get("d") or "").strip())
    if name in ("polyline", "polygon"):
        return bool((element.get("points") or "").strip())
    if name == "circle":
        return _positive(element.get("r"))
    if name == "ellipse":
        return _positive(element.get("rx")) or _positive(element.get("ry"))
    if name in ("rect", "image"):
        return _positive(element.get("width")) and _positive(element.get("height"))
    if name == "text":
        return bool("".join(element.itertext()).strip())
    return True  # line, use: drawn if their references or ends make sense; resvg decides


def _positive(value: str | None) -> bool:
    if value is None:
        return False
    try:
        return float(value.strip().rstrip("%").removesuffix("px")) > 0
    except ValueError:
        return True  # a unit resvg knows and we do not


def _resvg() -> object | None:
    try:
        import resvg_py
    except ImportError:  # pragma: no cover - resvg is a runtime dependency
        return None
    return resvg_py


def _colours(svg: str) -> int:
    """How many distinct RGBA colours resvg draws at 32 px (2 means "more than one").

    Text is drawn with the system's fonts, which resvg loads anew for every render (1-2 ms of
    CPU with a few dozen fonts installed, against 0.2-0.4 ms for the whole render without
    them). So the picture is drawn without its text first: shapes of more than one colour are
    a picture whatever the text adds, and only a picture whose shapes alone are one flat
    colour (or that could not be drawn without fonts) is drawn again with the fonts, where its
    text may be all it shows. The one drawing this can judge otherwise than a render with
    fonts would is one whose text covers every pixel of the canvas in one colour."""
    text = "<text" in svg
    if text:
        # A drawing resvg cannot draw without fonts is judged by the render with them, as before.
        with contextlib.suppress(Exception):
            colours = distinct_colours(_render(svg, fonts=False), stop_at=2)
            if colours > 1:
                return colours
    return distinct_colours(_render(svg, fonts=text), stop_at=2)


def _render(svg: str, *, fonts: bool) -> bytes:
    import resvg_py

    return bytes(
        resvg_py.svg_to_bytes(svg_string=svg, width=_RENDER_PX, skip_system_fonts=not fonts)
    )


def distinct_colours(png: bytes, *, stop_at: int) -> int:
    """Decode an 8-bit RGBA PNG (what resvg writes) far enough to count colours: the colours of
    every row up to the one that brings the count to `stop_at`."""
    pos, idat, width = 8, bytearray(), 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width = struct.unpack(">I", body[:4])[0]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(bytes(idat)), width * 4
    previous, flat, colours = bytes(stride), True, set[bytes]()
    for y in range(len(raw) // (stride + 1)):
        start = y * (stride + 1)
        row = _unfilter(raw[start], raw[start + 1 : start + 1 + stride], previous, flat)
        flat = row == row[:4] * width
        if flat:
            if stride:
                colours.add(row[:4])
        else:
            colours.update(row[i : i + 4] for i in range(0, stride, 4))
        if len(colours) >= stop_at:
            return len(colours)
        previous = row
    return len(colours)


def _unfilter(method: int, data: bytes, previous: bytes, flat: bool) -> bytes:
    """One scanline without its PNG filter (4 bytes a pixel). `flat`: every pixel of `previous`
    is the same, where Paeth predicts from the left pixel as Sub does."""
    stride = len(data)
    if method == 1 or (method == 4 and flat):
        # Sub (and Paeth under a flat row, but for its first pixel, predicted from above): a pixel
        # is the one on its left plus the data, so the row is one colour exactly when the data
        # after the first pixel is all zero.
        first = bytes(
            (data[i] + (previous[i] if method == 4 else 0)) & 0xFF for i in range(min(4, stride))
        )
        if data.count(0, 4) == stride - 4:
            return first * (stride // 4)
        row = bytearray(first + data[4:])
        for x in range(4, stride):
            row[x] = (row[x] + row[x - 4]) & 0xFF
        return bytes(row)
    if method == 2:  # Up: the bytes above plus the data, added byte by byte in one integer
        if data.count(0) == stride:
            return previous
        a, b = int.from_bytes(data, "big"), int.from_bytes(previous, "big")
        low, high = _masks(stride)
        return (((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(stride, "big")
    if method == 3:  # Average
        row = bytearray(data)
        for x in range(stride):
            left = row[x - 4] if x >= 4 else 0
            row[x] = (row[x] + ((left + previous[x]) >> 1)) & 0xFF
        return bytes(row)
    if method == 4:  # Paeth
        row = bytearray(data)
        for x in range(stride):
            a = row[x - 4] if x >= 4 else 0
            b = previous[x]
            c = previous[x - 4] if x >= 4 else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        return bytes(row)
    return data  # None (and any other method, read as None)


@functools.cache
def _masks(stride: int) -> tuple[int, int]:
    return int.from_bytes(b"\x7f" * stride, "big"), int.from_bytes(b"\x80" * stride, "big")
