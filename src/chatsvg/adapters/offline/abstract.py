"""For prompts with nothing the library can draw: an abstract composition of the prompt's own.

The words pick one of a few compositions (a landscape of waves under a disc, orbits, Bauhaus
blocks, a rosette) and its proportions; the colours named in the prompt, or else a palette the
words pick, paint it. It is drawn as one big subject, so every style applies to it as to a cat.
"""

from __future__ import annotations

import math

from .drawing import Part, Subject, circle, ellipse, line, n, path, rect, subject
from .geometry import Noise

PALETTES: tuple[tuple[str, str, str, str], ...] = (
    ("#264653", "#2a9d8f", "#e9c46a", "#e76f51"),
    ("#3d348b", "#7678ed", "#f7b801", "#f35b04"),
    ("#1c2541", "#3a506b", "#5bc0be", "#f2e9e4"),
    ("#ff595e", "#ffca3a", "#8ac926", "#1982c4"),
    ("#2b2d42", "#ef476f", "#ffd166", "#06d6a0"),
    ("#006d77", "#83c5be", "#ffddd2", "#e29578"),
    ("#540d6e", "#ee4266", "#ffd23f", "#3bceac"),
    ("#023047", "#219ebc", "#ffb703", "#fb8500"),
)


def composition(words: tuple[str, ...], colours: tuple[str, ...], noise: Noise) -> Subject:
    palette = list(PALETTES[int(noise.unit("palette") * len(PALETTES))])
    for i, colour in enumerate(colours[:3]):
        palette[1 + i] = colour
    kind = int(noise.unit("kind") * 4)
    maker = (_landscape, _orbits, _blocks, _rosette)[kind]
    parts = maker(noise, palette)
    return subject(
        "abstract",
        (512, 512),
        parts,
        main=palette[1],
        alt=palette[2],
        accent=palette[3],
        habitat="float",
    )


def _landscape(noise: Noise, p: list[str]) -> list[Part]:
    cx = noise.between("sunx", 150, 360)
    cy = noise.between("suny", 140, 220)
    r = noise.between("sunr", 70, 110)
    parts: list[Part] = [circle(cx, cy, r, "accent")]
    for i, paint in enumerate(("main", "alt", p[0])):
        y = 300 + i * 62 + noise.between(f"wavey{i}", -14, 14)
        a = noise.between(f"wavea{i}", 18, 46)
        parts.append(
            path(
                f"M0 {n(y)}C120 {n(y - a)} 200 {n(y + a)} 300 {n(y)}S440 {n(y - a)} 512 {n(y)}"
                "V512H0Z",
                paint,
            )
        )
    parts.append(
        line(
            f"M{n(cx - r - 30)} {n(cy)}H{n(cx - r - 8)}M{n(cx + r + 8)} {n(cy)}H{n(cx + r + 30)}",
            p[0],
            6,
            2,
        )
    )
    return parts


def _orbits(noise: Noise, p: list[str]) -> list[Part]:
    cx, cy = 256.0, 256.0
    parts: list[Part] = []
    for i in range(3):
        r = 70 + i * 55
        parts.append(
            line(
                f"M{n(cx - r)} {n(cy)}a{r} {r} 0 1 0 {2 * r} 0a{r} {r} 0 1 0 {-2 * r} 0",
                "alt",
                5,
                0,
            )
        )
    parts.append(circle(cx, cy, 48, "accent"))
    for i in range(3):
        angle = noise.between(f"orbit{i}", 0, 2 * math.pi)
        r = 70 + i * 55
        parts.append(
            circle(
                cx + r * math.cos(angle),
                cy + r * math.sin(angle),
                14 + 4 * i,
                ("main", p[0], "accent")[i],
            )
        )
    return parts


def _blocks(noise: Noise, p: list[str]) -> list[Part]:
    parts: list[Part] = [
        rect(60, 60, 250, 250, "main", r=24),
        circle(noise.between("bx", 300, 360), noise.between("by", 280, 340), 120, "alt"),
        rect(noise.between("tx", 90, 160), 330, 300, 110, "accent", r=55),
    ]
    d = "".join(f"M{80 + i * 34} 450h14" for i in range(8))
    parts.append(line(d, p[0], 8, 2))
    parts.append(ellipse(150, 170, 40, 40, p[0], 1))
    return parts


def _rosette(noise: Noise, p: list[str]) -> list[Part]:
    count = 6 + int(noise.unit("petals") * 5)
    length = noise.between("plen", 120, 170)
    parts: list[Part] = []
    for k in range(count):
        angle = 360 * k / count
        a = math.radians(angle)
        parts.append(
            ellipse(
                256 + length * 0.55 * math.sin(a),
                256 - length * 0.55 * math.cos(a),
                length * 0.22,
                length * 0.55,
                "main" if k % 2 else "alt",
                0,
                rotate=angle,
            )
        )
    parts.append(circle(256, 256, length * 0.3, "accent"))
    parts.append(circle(256, 256, length * 0.12, p[0], 1))
    return parts
