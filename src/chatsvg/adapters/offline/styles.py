"""The nine styles as rules applied to the same drawings: how parts are filled, stroked and shaded.

    outline   strokes only, in a darker shade of each part's colour, one stroke width
    line-art  even black lines on warm paper, nothing filled
    filled    solid colour silhouettes, no strokes, a plain backdrop
    minimal   the silhouette and a few features, one shade per colour, lots of space
    modern    softened contemporary palette, a gradient backdrop with a disc behind the subject
    flat      flat colours in a full scene, no gradients, no strokes, no shadows
    gradient  every large shape and the scene filled with linear gradients
    3d        radial shading on every shape, ground shadows, a lit scene
    cartoon   bright saturated fills with bold dark outlines

"Nothing filled" in outline and line-art means no colour: shapes are filled with the paper's
own colour, so a head in front of a body hides the body's line as ink on paper would.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .drawing import Part, luminance, mix, n, rgb, saturate, shade, tint
from .geometry import Placement


def _same(colour: str) -> str:
    return colour


def _modern(colour: str) -> str:
    return mix(saturate(colour, -0.18), "#f4f1ff", 0.12)


def _cartoon(colour: str) -> str:
    return saturate(colour, 0.35)


def _vivid(colour: str) -> str:
    return saturate(colour, 0.15)


@dataclass(frozen=True, slots=True)
class Style:
    name: str
    fill: str  # solid | paper | linear | radial
    outline: str = ""  # "" | role (a darker shade of each part's colour) | ink (one colour)
    outline_px: float = 0.0
    max_level: int = 2
    backdrop: str = "scene"  # scene | plain | soft | blank | paper
    shadows: bool = False
    scale: float = 1.0  # how much of the frame the subjects take
    tone: Callable[[str], str] = _same
    ink: str = "#1f2430"
    paper: str = "#ffffff"
    collapse: bool = False  # one shade per colour: no _dark/_light variants

    @property
    def strokes_only(self) -> bool:
        return self.fill == "paper"


STYLES: dict[str, Style] = {
    "outline": Style("outline", "paper", "role", 2.6, backdrop="paper"),
    "filled": Style("filled", "solid", backdrop="plain", shadows=True),
    "minimal": Style("minimal", "solid", max_level=1, backdrop="blank", scale=0.78, collapse=True),
    "modern": Style("modern", "solid", backdrop="soft", shadows=True, scale=0.92, tone=_modern),
    "flat": Style("flat", "solid"),
    "gradient": Style("gradient", "linear", tone=_vivid),
    "line-art": Style(
        "line-art", "paper", "ink", 2.2, backdrop="paper", ink="#1c1917", paper="#fffdf7"
    ),
    "3d": Style("3d", "radial", shadows=True),
    "cartoon": Style("cartoon", "solid", "ink", 3.4, tone=_cartoon, ink="#231f20"),
}
DEFAULT_STYLE = "flat"


def style_named(name: str) -> Style:
    return STYLES.get(name, STYLES[DEFAULT_STYLE])


class Defs:
    """Gradients, made once per colour and named in the order they are first needed."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, ...], str] = {}
        self._markup: list[str] = []

    def _add(self, key: tuple[str, ...], make: Callable[[str], str]) -> str:
        if key not in self._ids:
            gid = f"g{len(self._ids) + 1}"
            self._ids[key] = gid
            self._markup.append(make(gid))
        return f"url(#{self._ids[key]})"

    def linear(self, top: str, bottom: str, diagonal: bool = False) -> str:
        x2, y2 = ("1", "1") if diagonal else ("0", "1")
        return self._add(
            ("l", top, bottom, x2),
            lambda gid: (
                f'<linearGradient id="{gid}" x1="0" y1="0" x2="{x2}" y2="{y2}">'
                f'<stop offset="0" stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/>'
                "</linearGradient>"
            ),
        )

    def radial(self, colour: str) -> str:
        return self._add(
            ("r", colour),
            lambda gid: (
                f'<radialGradient id="{gid}" cx="0.35" cy="0.3" r="0.8">'
                f'<stop offset="0" stop-color="{tint(colour, 0.55)}"/>'
                f'<stop offset="0.45" stop-color="{colour}"/>'
                f'<stop offset="1" stop-color="{shade(colour, 0.38)}"/></radialGradient>'
            ),
        )

    def glow(self, colour: str) -> str:
        return self._add(
            ("glow", colour),
            lambda gid: (
                f'<radialGradient id="{gid}"><stop offset="0" stop-color="{colour}" '
                f'stop-opacity="0.55"/><stop offset="1" stop-color="{colour}" stop-opacity="0"/>'
                "</radialGradient>"
            ),
        )

    def markup(self) -> str:
        return f"<defs>{''.join(self._markup)}</defs>" if self._markup else ""


def _distance(a: str, b: str) -> float:
    return math.dist(rgb(a), rgb(b))


def roles(placement: Placement, style: Style) -> dict[str, str]:
    """Each paint role of one drawn item, after the prompt's colour and the style's palette."""
    item = placement.item
    defaults = item.subject.colours
    main = item.colour or defaults["main"]
    base = {"main": main, "alt": defaults["alt"], "accent": defaults["accent"]}
    if item.colour:
        # A red house keeps a roof you can tell from its walls.
        for role in ("alt", "accent"):
            if _distance(base[role], main) < 70:
                colour = base[role]
                base[role] = shade(colour, 0.4) if luminance(colour) > 0.35 else tint(colour, 0.5)
    out: dict[str, str] = {}
    for role, colour in base.items():
        out[role] = colour
        out[f"{role}_dark"] = colour if style.collapse else shade(colour, 0.28)
        out[f"{role}_light"] = colour if style.collapse else tint(colour, 0.42)
    out["ink"] = "#23252b" if luminance(main) > 0.16 else "#eef1f5"
    out["white"] = "#ffffff"
    return {role: style.tone(colour) for role, colour in out.items()}


def _colour(paint: str, palette: dict[str, str], style: Style) -> str:
    if paint.startswith("#"):
        return style.tone(paint)
    return palette.get(paint, palette["main"])


def _line_colour(colour: str, style: Style) -> str:
    if style.outline == "ink" or style.name == "line-art":
        return style.ink
    return shade(colour, 0.45) if luminance(colour) > 0.12 else colour


def draw(placement: Placement, style: Style, defs: Defs) -> str:
    """One item as a <g>: its parts in its own box, moved and scaled into the frame."""
    item = placement.item
    subject = item.subject
    sw, sh = subject.size
    box = placement.box
    k = box.w / sw
    parts = subject.variants.get(item.variant or "", subject.parts)
    if subject.cover:
        parts = parts[-subject.cover :] if item.layer == "front" else parts
    palette = roles(placement, style)
    if placement.flip:
        transform = f"translate({n(box.right)} {n(box.y)}) scale({n(-k)} {n(k)})"
    else:
        transform = f"translate({n(box.x)} {n(box.y)}) scale({n(k)})"
    attrs = [f'id="{item.key}"', f'transform="{transform}"']
    width = style.outline_px / k if style.outline else 0.0
    if style.outline:
        attrs.append('stroke-linejoin="round" stroke-linecap="round"')
        attrs.append(f'stroke-width="{n(width)}"')
        if style.outline == "ink":
            attrs.append(f'stroke="{style.ink}"')
    elements = []
    small = max(sw, sh) * 0.07
    for part in parts:
        if part.level > style.max_level:
            continue
        if style.strokes_only and part.paint == "white":
            continue  # highlights have no line of their own
        colour = _colour(part.paint, palette, style)
        elements.append(_element(part, colour, style, defs, width, small))
    return f"<g {' '.join(attrs)}>{''.join(elements)}</g>"


def _element(part: Part, colour: str, style: Style, defs: Defs, width: float, small: float) -> str:
    geometry = " ".join(f'{key}="{value}"' for key, value in part.geometry)
    if part.line:
        stroke = _line_colour(colour, style) if style.strokes_only else colour
        line_width = width if style.strokes_only else part.line
        paint = f'fill="none" stroke="{stroke}" stroke-width="{n(line_width)}"'
        if not style.outline:
            paint += ' stroke-linecap="round" stroke-linejoin="round"'
    elif style.strokes_only:
        paint = f'fill="{style.paper}"'
        if style.outline == "role":
            paint += f' stroke="{_line_colour(colour, style)}"'
    elif style.fill in ("linear", "radial") and part.paint not in ("ink", "white"):
        if _is_small(part, small):
            paint = f'fill="{colour}"'
        elif style.fill == "linear":
            paint = f'fill="{defs.linear(tint(colour, 0.28), shade(colour, 0.18))}"'
        else:
            paint = f'fill="{defs.radial(colour)}"'
    else:
        paint = f'fill="{colour}"'
    if part.opacity < 1:
        paint += f' opacity="{n(part.opacity)}"'
    return f"<{part.tag} {geometry} {paint}/>"


def _is_small(part: Part, small: float) -> bool:
    values = dict(part.geometry)
    if part.tag == "circle":
        return float(values["r"]) < small
    if part.tag == "ellipse":
        return max(float(values["rx"]), float(values["ry"])) < small
    return False


def shadow(placement: Placement, style: Style, backdrop: str) -> str:
    """A soft ellipse on the ground under something that stands there."""
    box = placement.box
    rx = box.w * 0.46
    ry = max(3.0, min(box.w * 0.07, 12.0))
    colour = "#000000" if style.fill == "radial" else shade(backdrop, 0.5)
    opacity = 0.22 if style.fill == "radial" else 0.3
    return (
        f'<ellipse cx="{n(box.cx)}" cy="{n(box.bottom - ry * 0.35)}" rx="{n(rx)}" ry="{n(ry)}" '
        f'fill="{colour}" opacity="{n(opacity)}"/>'
    )
