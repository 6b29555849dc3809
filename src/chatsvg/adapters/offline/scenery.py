"""The details of a backdrop: the sky and ground palettes, the distance (hills, sea, city), the
sea's surface and bed, stars, flowers, rain and snow. `backdrops` decides which to draw."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .drawing import mix, n, shade, tint
from .geometry import FRAME, GROUND_Y, Noise
from .styles import Defs, Style

if TYPE_CHECKING:
    from .backdrops import Scene

SKIES: dict[str, tuple[str, str]] = {
    "day": ("#8fd0fa", "#e3f4ff"),
    "night": ("#0b1533", "#2b3d75"),
    "space": ("#060a1c", "#1c1745"),
    "sunset": ("#7b5cc9", "#ffb36b"),
    "storm": ("#4f5b73", "#a3aec0"),
    "underwater": ("#48c0ee", "#0b4a82"),
}
GROUNDS: dict[str, str] = {
    "grass": "#7cc45c",
    "sand": "#f0d49c",
    "snow": "#f1f5fb",
    "autumn": "#caa24c",
    "rock": "#8a8fa3",
}
SEA = "#2f8ed6"


def distance(scene: Scene, ground: str, sky: str, noise: Noise, style: Style) -> list[str]:
    """The far layer between sky and ground: hills, a forest, a city, the sea's horizon, dunes."""
    far = mix(ground, sky, 0.45)
    out = []
    y = GROUND_Y
    if "hills" in scene.extras:
        out.append(
            f'<path d="M0 {n(y - 40)}Q90 {n(y - 95)} 190 {n(y - 45)}T400 {n(y - 55)}'
            f'Q460 {n(y - 80)} 512 {n(y - 50)}V{n(y)}H0Z" fill="{far}"/>'
        )
    if "dunes" in scene.extras:
        out.append(
            f'<path d="M0 {n(y - 30)}Q120 {n(y - 80)} 260 {n(y - 30)}Q380 {n(y - 70)} 512 {n(y - 35)}'
            f'V{n(y)}H0Z" fill="{shade(ground, 0.12)}"/>'
        )
    if "horizon" in scene.extras:
        sea = mix(style.tone(SEA), sky, 0.2)
        out.append(f'<rect y="{n(y - 58)}" width="512" height="60" fill="{sea}"/>')
        out.append(
            f'<path d="M20 {n(y - 40)}h40M150 {n(y - 28)}h56M320 {n(y - 44)}h36M420 {n(y - 22)}h50" '
            f'stroke="{tint(sea, 0.45)}" stroke-width="3" stroke-linecap="round" fill="none"/>'
        )
    if "forest" in scene.extras:
        tree = mix(shade(ground, 0.35), sky, 0.3)
        for i in range(9):
            x = i * 62 + noise.between(f"forest{i}", -14, 14)
            h = noise.between(f"foresth{i}", 90, 150)
            out.append(
                f'<path d="M{n(x)} {n(y - h)}L{n(x + 30)} {n(y)}H{n(x - 30)}Z" fill="{tree}"/>'
            )
    if "city" in scene.extras:
        block = mix("#64748b", sky, 0.45)
        x = 0.0
        i = 0
        while x < FRAME:
            w = noise.between(f"cityw{i}", 34, 62)
            h = noise.between(f"cityh{i}", 60, 170)
            out.append(
                f'<rect x="{n(x)}" y="{n(y - h)}" width="{n(w - 4)}" height="{n(h)}" fill="{block}"/>'
            )
            x += w
            i += 1
    return out


def sea_surface(
    y: float,
    sea: str,
    style: Style,
    defs: Defs,
    shaded: bool,
    outline: str,
    x0: float = 0.0,
) -> str:
    fill = defs.linear(tint(sea, 0.15), shade(sea, 0.25)) if shaded else sea
    waves = "".join(
        f"M{n(x)} {n(y + 26 + (i % 3) * 24)}q10 -8 20 0t20 0"
        for i, x in enumerate(range(int(x0) + 20, 500, 70))
    )
    return (
        f'<path d="M{n(x0)} {n(y)}Q{n(x0 + 30)} {n(y - 8)} {n(x0 + 60)} {n(y)}T{n(x0 + 120)} {n(y)}'
        f'H512V512H{n(x0)}Z" fill="{fill}"{outline}/>'
        f'<path d="{waves}" fill="none" stroke="{tint(sea, 0.5)}" stroke-width="3" '
        'stroke-linecap="round"/>'
    )


def seabed(style: Style, noise: Noise) -> list[str]:
    sand = style.tone("#e8cf98")
    weed = style.tone("#2f9e63")
    out = [
        f'<path d="M0 470Q120 452 250 468T512 462V512H0Z" fill="{sand}"/>',
        f'<path d="M40 472q-14 -30 0 -60t0 -60M60 474q12 -26 0 -50M470 468q-14 -30 0 -60t0 -50" '
        f'fill="none" stroke="{weed}" stroke-width="7" stroke-linecap="round"/>',
    ]
    bubbles = []
    for i in range(9):
        x = noise.between(f"bubx{i}", 30, 482)
        y = noise.between(f"buby{i}", 40, 420)
        r = noise.between(f"bubr{i}", 3, 8)
        bubbles.append(f'<circle cx="{n(x)}" cy="{n(y)}" r="{n(r)}"/>')
    out.append(
        f'<g fill="none" stroke="#ffffff" stroke-width="2" opacity="0.55">{"".join(bubbles)}</g>'
    )
    return out


def stars(noise: Noise, below: float, count: int) -> str:
    dots = []
    for i in range(count):
        x = noise.between(f"starx{i}", 8, 504)
        y = noise.between(f"stary{i}", 8, max(40.0, below))
        r = noise.between(f"starr{i}", 0.8, 2.4)
        dots.append(f'<circle cx="{n(x)}" cy="{n(y)}" r="{n(r)}"/>')
    return f'<g fill="#ffffff" opacity="0.8">{"".join(dots)}</g>'


def flowers(noise: Noise) -> str:
    out = []
    for i in range(14):
        x = noise.between(f"flx{i}", 10, 502)
        y = noise.between(f"fly{i}", GROUND_Y + 14, 500)
        colour = ("#f472b6", "#facc15", "#ffffff", "#a78bfa")[i % 4]
        out.append(f'<circle cx="{n(x)}" cy="{n(y)}" r="4" fill="{colour}"/>')
    return "".join(out)


def rain(noise: Noise, colour: str) -> str:
    d = []
    for i in range(40):
        x = noise.between(f"rainx{i}", 0, 512)
        y = noise.between(f"rainy{i}", 0, 480)
        d.append(f"M{n(x)} {n(y)}l-6 16")
    return (
        f'<path d="{"".join(d)}" stroke="{colour}" stroke-width="2.2" stroke-linecap="round" '
        'opacity="0.75" fill="none"/>'
    )


def snowfall(noise: Noise) -> str:
    dots = []
    for i in range(36):
        x = noise.between(f"snowx{i}", 0, 512)
        y = noise.between(f"snowy{i}", 0, 500)
        r = noise.between(f"snowr{i}", 1.5, 4)
        dots.append(f'<circle cx="{n(x)}" cy="{n(y)}" r="{n(r)}"/>')
    return f'<g fill="#ffffff" opacity="0.9">{"".join(dots)}</g>'


# --- Quieter backdrops ---------------------------------------------------------------------------
