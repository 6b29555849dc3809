"""What a drawing is made of: parts in a subject's own box, painted by role, and colour arithmetic.

A subject is drawn once, in its own coordinate box (`Subject.size`), from a handful of parts. A
part names its paint by role ("main", "alt", "accent", "ink", ... or a literal #rrggbb), so the
prompt's colours ("a blue fox") and the style's rules (outline, gradient, 3d, ...) are applied at
render time without redrawing anything. `level` says how essential a part is: 0 is the
silhouette, 1 the features that make it recognisable (eyes, windows), 2 decoration that a
minimal style leaves out.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

Number = float | int


@dataclass(frozen=True, slots=True)
class Part:
    tag: str  # path, circle, ellipse, rect, polygon
    geometry: tuple[tuple[str, str], ...]
    paint: str = "main"
    level: int = 0
    line: float = 0.0  # > 0: an open stroke (whisker, string) this wide, never filled
    opacity: float = 1.0


@dataclass(frozen=True, slots=True)
class Subject:
    """One thing the offline model can draw, with what the parser and the layout need to know."""

    name: str
    size: tuple[float, float]  # width, height of the drawing box
    parts: tuple[Part, ...]
    colours: Mapping[str, str]  # main, alt, accent: the defaults a prompt's colour replaces
    words: tuple[str, ...] = ()  # synonyms and plurals besides the name
    habitat: str = "ground"  # ground | sky | water | surface | float
    height: float = 1.0  # drawn height, in the layout's scene units (a sitting cat is 1)
    holds: str = ""  # how "X in <this>" looks: "front" (X peeks out) or "inside" (X drawn over)
    inner: tuple[float, float, float, float] | None = None  # where held things go (x, y, w, h)
    seat: float = 0.0  # how far below the box's top things "on" it rest, as a share of its height
    variants: Mapping[str, tuple[Part, ...]] = field(default_factory=dict)
    scenes: tuple[str, ...] = ()  # backdrops the subject implies (moon → night)
    facing: str = "front"  # "right" for side views, which the layout may mirror
    cover: int = 0  # the last `cover` parts are its front: drawn over what it holds


def n(value: Number) -> str:
    """A compact number: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _part(tag: str, paint: str, level: int, line: float, **geometry: Number | str) -> Part:
    attrs = tuple(
        (key.replace("_", "-"), value if isinstance(value, str) else n(value))
        for key, value in geometry.items()
    )
    return Part(tag, attrs, paint, level, line)


def circle(cx: Number, cy: Number, r: Number, paint: str = "main", level: int = 0) -> Part:
    return _part("circle", paint, level, 0.0, cx=cx, cy=cy, r=r)


def ellipse(
    cx: Number,
    cy: Number,
    rx: Number,
    ry: Number,
    paint: str = "main",
    level: int = 0,
    rotate: Number = 0,
) -> Part:
    if rotate:
        return _part(
            "ellipse",
            paint,
            level,
            0.0,
            cx=cx,
            cy=cy,
            rx=rx,
            ry=ry,
            transform=f"rotate({n(rotate)} {n(cx)} {n(cy)})",
        )
    return _part("ellipse", paint, level, 0.0, cx=cx, cy=cy, rx=rx, ry=ry)


def rect(
    x: Number,
    y: Number,
    w: Number,
    h: Number,
    paint: str = "main",
    r: Number = 0,
    level: int = 0,
) -> Part:
    if r:
        return _part("rect", paint, level, 0.0, x=x, y=y, width=w, height=h, rx=r)
    return _part("rect", paint, level, 0.0, x=x, y=y, width=w, height=h)


def path(d: str, paint: str = "main", level: int = 0, evenodd: bool = False) -> Part:
    if evenodd:  # inner sub-paths cut holes (a donut's, a key's)
        return _part("path", paint, level, 0.0, d=" ".join(d.split()), fill_rule="evenodd")
    return _part("path", paint, level, 0.0, d=" ".join(d.split()))


def poly(points: str, paint: str = "main", level: int = 0) -> Part:
    return _part("polygon", paint, level, 0.0, points=" ".join(points.split()))


def line(d: str, paint: str = "ink", width: Number = 2.0, level: int = 1) -> Part:
    """An open stroke: drawn with the role's colour in every style, never filled."""
    return _part("path", paint, level, float(width), d=" ".join(d.split()))


def faded(part: Part, opacity: float) -> Part:
    return Part(part.tag, part.geometry, part.paint, part.level, part.line, opacity)


def eyes(
    x1: Number, x2: Number, y: Number, r: Number, paint: str = "ink", shine: bool = True
) -> list[Part]:
    """Two eyes with a highlight each: the cheapest way to make a shape a creature."""
    parts = [circle(x1, y, r, paint, 1), circle(x2, y, r, paint, 1)]
    if shine:
        parts += [
            circle(x1 + r * 0.35, y - r * 0.35, r * 0.35, "white", 2),
            circle(x2 + r * 0.35, y - r * 0.35, r * 0.35, "white", 2),
        ]
    return parts


def star_points(cx: float, cy: float, outer: float, inner: float, tips: int = 5) -> str:
    points = []
    for k in range(tips * 2):
        radius = outer if k % 2 == 0 else inner
        angle = -math.pi / 2 + k * math.pi / tips
        points.append(f"{n(cx + radius * math.cos(angle))},{n(cy + radius * math.sin(angle))}")
    return " ".join(points)


def rays(cx: float, cy: float, inner: float, outer: float, count: int, half_width: float) -> str:
    """A path of `count` triangles pointing out of a circle (sun rays, star bursts)."""
    d = []
    for k in range(count):
        a = 2 * math.pi * k / count - math.pi / 2
        d.append(
            f"M{n(cx + inner * math.cos(a - half_width))} {n(cy + inner * math.sin(a - half_width))}"
            f"L{n(cx + outer * math.cos(a))} {n(cy + outer * math.sin(a))}"
            f"L{n(cx + inner * math.cos(a + half_width))} {n(cy + inner * math.sin(a + half_width))}Z"
        )
    return "".join(d)


def crescent(cx: float, cy: float, r: float, dx: float, dy: float, r2: float) -> str:
    """The part of circle (cx, cy, r) outside circle (cx+dx, cy+dy, r2), as a path."""
    d = math.hypot(dx, dy)
    a = (r * r - r2 * r2 + d * d) / (2 * d)
    h = math.sqrt(max(r * r - a * a, 0.0))
    ux, uy = dx / d, dy / d
    mx, my = cx + a * ux, cy + a * uy
    p1 = (mx - h * uy, my + h * ux)
    p2 = (mx + h * uy, my - h * ux)
    return (
        f"M{n(p1[0])} {n(p1[1])}A{n(r)} {n(r)} 0 1 1 {n(p2[0])} {n(p2[1])}"
        f"A{n(r2)} {n(r2)} 0 0 0 {n(p1[0])} {n(p1[1])}Z"
    )


def petals(cx: float, cy: float, distance: float, rx: float, ry: float, count: int) -> list[Part]:
    parts = []
    for k in range(count):
        angle = 360 * k / count
        a = math.radians(angle)
        parts.append(
            ellipse(
                cx + distance * math.sin(a),
                cy - distance * math.cos(a),
                rx,
                ry,
                "main",
                0,
                rotate=angle,
            )
        )
    return parts


# --- Colours -----------------------------------------------------------------------------------


def rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def hex_colour(r: float, g: float, b: float) -> str:
    return "#" + "".join(f"{max(0, min(255, round(v))):02x}" for v in (r, g, b))


def mix(a: str, b: str, t: float) -> str:
    """`a` moved a share `t` of the way towards `b`."""
    ra, ga, ba = rgb(a)
    rb, gb, bb = rgb(b)
    return hex_colour(ra + (rb - ra) * t, ga + (gb - ga) * t, ba + (bb - ba) * t)


def shade(colour: str, amount: float) -> str:
    """Darker (amount > 0) towards a deep tone of the same hue, not towards grey."""
    hue, light, sat = _hls(colour)
    if light > 0.85:
        sat *= 0.35  # near-white: its shade is a cool grey, not a tinted purple or yellow
    return _from_hls(hue, light * (1 - amount), min(1.0, sat * (1 + amount * 0.3)))


def tint(colour: str, amount: float) -> str:
    return mix(colour, "#ffffff", amount)


def luminance(colour: str) -> float:
    r, g, b = rgb(colour)
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def saturate(colour: str, amount: float) -> str:
    hue, light, sat = _hls(colour)
    return _from_hls(hue, light, max(0.0, min(1.0, sat * (1 + amount))))


def _hls(colour: str) -> tuple[float, float, float]:
    r, g, b = rgb(colour)
    return colorsys.rgb_to_hls(r / 255, g / 255, b / 255)


def _from_hls(hue: float, light: float, sat: float) -> str:
    r, g, b = colorsys.hls_to_rgb(hue, max(0.0, min(1.0, light)), max(0.0, min(1.0, sat)))
    return hex_colour(r * 255, g * 255, b * 255)


# --- Shapes that are paths ------------------------------------------------------------------------


def scallop(
    cx: float, cy: float, rx: float, ry: float, count: int, bulge: float = 0.62, turn: float = 0
) -> str:
    """A closed blob: `count` round bumps around an ellipse (tree crowns, clouds, manes, wool)."""
    points = [
        (
            cx + rx * math.cos(2 * math.pi * k / count + turn),
            cy + ry * math.sin(2 * math.pi * k / count + turn),
        )
        for k in range(count)
    ]
    d = [f"M{n(points[0][0])} {n(points[0][1])}"]
    for k in range(count):
        x1, y1 = points[k]
        x2, y2 = points[(k + 1) % count]
        radius = math.hypot(x2 - x1, y2 - y1) * bulge
        d.append(f"A{n(radius)} {n(radius)} 0 0 1 {n(x2)} {n(y2)}")
    return "".join(d) + "Z"


def circle_d(cx: float, cy: float, r: float) -> str:
    return (
        f"M{n(cx - r)} {n(cy)}a{n(r)} {n(r)} 0 1 0 {n(2 * r)} 0a{n(r)} {n(r)} 0 1 0 {n(-2 * r)} 0Z"
    )


def ring(cx: float, cy: float, r: float, hole: float, paint: str = "main", level: int = 0) -> Part:
    """A disc with a hole (donut, key bow): drawn with the even-odd rule."""
    return _part(
        "path",
        paint,
        level,
        0.0,
        d=circle_d(cx, cy, r) + circle_d(cx, cy, hole),
        fill_rule="evenodd",
    )


def arch(cx: float, cy: float, outer: float, inner: float) -> str:
    """The upper half of a ring: a rainbow band, an arch."""
    return (
        f"M{n(cx - outer)} {n(cy)}A{n(outer)} {n(outer)} 0 0 1 {n(cx + outer)} {n(cy)}"
        f"L{n(cx + inner)} {n(cy)}A{n(inner)} {n(inner)} 0 0 0 {n(cx - inner)} {n(cy)}Z"
    )


def band(cx: float, cy: float, rx: float, ry: float, x0: float, x1: float, steps: int = 6) -> str:
    """The slice x0..x1 of an ellipse, as a polygon's points: stripes that stay inside a body."""
    top, bottom = [], []
    for k in range(steps + 1):
        x = x0 + (x1 - x0) * k / steps
        t = max(0.0, 1 - ((x - cx) / rx) ** 2)
        dy = ry * math.sqrt(t)
        top.append(f"{n(x)},{n(cy - dy)}")
        bottom.append(f"{n(x)},{n(cy + dy)}")
    return " ".join(top + bottom[::-1])


def subject(
    name: str,
    size: tuple[float, float],
    parts: list[Part] | tuple[Part, ...],
    *,
    main: str,
    alt: str = "#ffffff",
    accent: str = "#f59e0b",
    **options: object,
) -> Subject:
    return Subject(
        name=name,
        size=size,
        parts=tuple(parts),
        colours={"main": main, "alt": alt, "accent": accent},
        **options,  # type: ignore[arg-type]
    )


def tube(points: Sequence[tuple[float, float]], start: float, end: float) -> str:
    """A filled band of tapering width along a centre line: a snake's body, a trunk, a tentacle."""
    left, right = [], []
    count = len(points)
    for i, (x, y) in enumerate(points):
        ax, ay = points[max(i - 1, 0)]
        bx, by = points[min(i + 1, count - 1)]
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy) or 1.0
        half = (start + (end - start) * i / max(count - 1, 1)) / 2
        nx, ny = -dy / length * half, dx / length * half
        left.append(f"{n(x + nx)} {n(y + ny)}")
        right.append(f"{n(x - nx)} {n(y - ny)}")
    return "M" + "L".join(left + right[::-1]) + "Z"


def spline(points: Sequence[tuple[float, float]], steps: int = 6) -> list[tuple[float, float]]:
    """Points along a smooth (Catmull-Rom) curve through `points`, for tube()."""
    out: list[tuple[float, float]] = []
    padded = [points[0], *points, points[-1]]
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        for step in range(steps):
            t = step / steps
            x, y = (
                0.5
                * (
                    2 * p1[k]
                    + (-p0[k] + p2[k]) * t
                    + (2 * p0[k] - 5 * p1[k] + 4 * p2[k] - p3[k]) * t * t
                    + (-p0[k] + 3 * p1[k] - 3 * p2[k] + p3[k]) * t * t * t
                )
                for k in (0, 1)
            )
            out.append((x, y))
    out.append(points[-1])
    return out
