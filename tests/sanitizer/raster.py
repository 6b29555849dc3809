"""Rasterize with resvg and compare pixels, for the benign corpus (tests and benchmark)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import resvg_py

TOLERANCE = 2  # per channel, out of 255: anti-aliasing noise, not a visible change
MAX_DIFFERING = 0.001  # share of pixels allowed beyond TOLERANCE


@dataclass(frozen=True)
class Raster:
    width: int
    height: int
    png: bytes

    def rgba(self) -> bytes:
        return _decode_png(self.png)


def render(svg: str, width: int = 96) -> Raster:
    # System fonts cost a few milliseconds per call, so they are loaded only when text is drawn.
    # dpi must be given: resvg-py defaults to 0, which turns every mm or pt size into nothing.
    png = resvg_py.svg_to_bytes(
        svg_string=svg, width=width, dpi=96.0, skip_system_fonts="<text" not in svg
    )
    w, h = struct.unpack(">II", png[16:24])
    return Raster(w, h, png)


def differing_share(before: Raster, after: Raster, tolerance: int = TOLERANCE) -> float:
    """The share of pixels whose colour moved by more than `tolerance` in any channel."""
    if (before.width, before.height) != (after.width, after.height):
        return 1.0
    if before.png == after.png:
        return 0.0
    a, b = before.rgba(), after.rgba()
    pixels = before.width * before.height
    differing = 0
    for i in range(0, len(a), 4):
        if any(abs(a[i + k] - b[i + k]) > tolerance for k in range(4)):
            differing += 1
    return differing / pixels


def same_picture(before: Raster, after: Raster) -> bool:
    return differing_share(before, after) <= MAX_DIFFERING


def _decode_png(png: bytes) -> bytes:
    """RGBA bytes of an 8-bit, non-interlaced RGBA PNG: the only kind resvg writes."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, bytearray()
    width = height = 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        body = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if (depth, color, interlace) != (8, 6, 0):
                raise ValueError("only 8-bit RGBA non-interlaced PNGs are supported")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(bytes(idat))
    stride = width * 4
    out = bytearray(stride * height)
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        filter_type = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        for x in range(stride):
            left = line[x - 4] if x >= 4 else 0
            up = previous[x]
            if filter_type == 1:
                line[x] = (line[x] + left) & 0xFF
            elif filter_type == 2:
                line[x] = (line[x] + up) & 0xFF
            elif filter_type == 3:
                line[x] = (line[x] + ((left + up) >> 1)) & 0xFF
            elif filter_type == 4:
                corner = previous[x - 4] if x >= 4 else 0
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[x] = (line[x] + pred) & 0xFF
        out[y * stride : (y + 1) * stride] = line
        previous = line
    return bytes(out)


def render_reference(svg: str, width: int = 96) -> Raster:
    """What the author meant: the raw SVG, with HTML entities resolved if resvg refuses them."""
    try:
        return render(svg, width)
    except ValueError:
        import html
        import re

        def resolve(match: re.Match[str]) -> str:
            if match.group(1) in ("amp", "lt", "gt", "quot", "apos"):
                return match.group(0)
            return html.unescape(match.group(0))

        return render(re.sub(r"&([A-Za-z][A-Za-z0-9]*);", resolve, svg), width)
