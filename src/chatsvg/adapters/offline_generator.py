"""The offline model: a deterministic SVG generator that needs no network and no API key.

The same prompt gives the same picture; different prompts give visibly different ones. Shapes,
palette and layout are drawn from a hash of the prompt and style; the prompt's words are written
into the picture, and the image says plainly that it comes from the offline model.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from xml.sax.saxutils import escape

from chatsvg.application.ports import GenerationRequest

_PALETTES = (
    ("#0f172a", "#38bdf8", "#f472b6", "#facc15"),
    ("#1e1b4b", "#a78bfa", "#34d399", "#fb7185"),
    ("#052e16", "#4ade80", "#fde047", "#60a5fa"),
    ("#3f1d0b", "#fb923c", "#fcd34d", "#f87171"),
    ("#111827", "#f9fafb", "#9ca3af", "#ef4444"),
    ("#082f49", "#22d3ee", "#e879f9", "#a3e635"),
    ("#fff7ed", "#ea580c", "#0891b2", "#65a30d"),
    ("#f8fafc", "#2563eb", "#db2777", "#16a34a"),
)


class OfflineSvgGenerator:
    name = "offline"

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self._delay = delay_seconds

    async def generate(self, request: GenerationRequest) -> str:
        if self._delay:
            await asyncio.sleep(self._delay)
        return render(request.prompt, request.style)


def render(prompt: str, style: str) -> str:
    digest = hashlib.sha256(f"{style}\n{prompt}".encode()).digest()
    bg, primary, secondary, accent = _PALETTES[digest[0] % len(_PALETTES)]
    filled = style not in ("outline", "line-art", "minimal")
    shapes: list[str] = []
    count = 3 + digest[1] % 5
    for i in range(count):
        b = digest[2 + i * 3 : 5 + i * 3]
        colour = (primary, secondary, accent)[i % 3]
        paint = f'fill="{colour}"' if filled else f'fill="none" stroke="{colour}" stroke-width="6"'
        opacity = 0.55 + (b[2] % 40) / 100
        kind = b[0] % 3
        cx, cy = 56 + b[1] % 400, 56 + b[2] % 300
        size = 30 + b[0] % 90
        if kind == 0:
            shapes.append(
                f'<circle cx="{cx}" cy="{cy}" r="{size}" {paint} opacity="{opacity:.2f}"/>'
            )
        elif kind == 1:
            shapes.append(
                f'<rect x="{cx - size}" y="{cy - size // 2}" width="{size * 2}" height="{size}" rx="{b[1] % 24}" '
                f'{paint} opacity="{opacity:.2f}" transform="rotate({b[2] % 90 - 45} {cx} {cy})"/>'
            )
        else:
            points = " ".join(
                f"{cx + size * math.cos(2 * math.pi * k / 5 + b[1]):.1f},{cy + size * math.sin(2 * math.pi * k / 5 + b[1]):.1f}"
                for k in range(5)
            )
            shapes.append(f'<polygon points="{points}" {paint} opacity="{opacity:.2f}"/>')
    gradient = ""
    background = f'<rect width="512" height="512" fill="{bg}"/>'
    if style in ("gradient", "3d", "modern"):
        gradient = (
            '<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">'
            f'<stop offset="0" stop-color="{bg}"/><stop offset="1" stop-color="{primary}" stop-opacity="0.6"/>'
            "</linearGradient></defs>"
        )
        background = '<rect width="512" height="512" fill="url(#bg)"/>'
    text_colour = (
        "#f8fafc"
        if bg.startswith("#0") or bg.startswith("#1") or bg.startswith("#3")
        else "#0f172a"
    )
    words = prompt if len(prompt) <= 38 else prompt[:37] + "…"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="512" height="512">'
        f"<title>{escape(prompt[:200])}</title>"
        f"{gradient}{background}{''.join(shapes)}"
        f'<text x="256" y="470" text-anchor="middle" font-family="sans-serif" font-size="22" fill="{text_colour}">'
        f"{escape(words)}</text>"
        f'<text x="500" y="24" text-anchor="end" font-family="sans-serif" font-size="12" fill="{text_colour}" '
        'opacity="0.7">offline model</text>'
        "</svg>"
    )
