"""The scene behind (and, for rain and snow, in front of) the subjects, in each style's manner.

The scene comes from the prompt's words ("night", "beach", "forest", ...), then from its subjects
(a moon means night, a rocket or planet means space, a fish without land means underwater), and
the layout says where the ground line and the sea are.
"""

from __future__ import annotations

from dataclasses import dataclass

from .drawing import luminance, mix, n, shade, tint
from .geometry import FRAME, GROUND_Y, SEA_LEVEL, Layout, Noise
from .parser import ParsedPrompt
from .styles import Defs, Style

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
_SKY_ORDER = ("underwater", "space", "night", "sunset", "storm", "day")


@dataclass(frozen=True, slots=True)
class Scene:
    sky: str  # a key of SKIES
    ground: str  # a key of GROUNDS
    extras: frozenset[str]  # stars, forest, city, rain, snowfall, garden, horizon, dunes, hills
    background: str | None  # a colour the prompt gave the sky or background
    studio: str | None  # a plain backdrop colour for lone objects, when no scene is implied


def resolve(parsed: ParsedPrompt, layout: Layout) -> Scene:
    named = set(parsed.scenes)
    in_sky = any(p.item.subject.habitat == "sky" for p in layout.placements)
    if layout.mode == "water" and not in_sky and not named & {"night", "space", "sunset", "storm"}:
        named.add("underwater")
    sky = next((s for s in _SKY_ORDER if s in named), "day")
    ground = "grass"
    if named & {"beach", "desert"}:
        ground = "sand"
    elif "snow" in named:
        ground = "snow"
    elif "autumn" in named:
        ground = "autumn"
    elif sky == "space":
        ground = "rock"
    extras = set()
    if sky in ("night", "space"):
        extras.add("stars")
    for word, extra in (
        ("forest", "forest"),
        ("city", "city"),
        ("rain", "rain"),
        ("storm", "rain"),
        ("snow", "snowfall"),
        ("garden", "garden"),
        ("sea", "horizon"),
        ("beach", "horizon"),
        ("desert", "dunes"),
    ):
        if word in named:
            extras.add(extra)
    if ground == "grass" and not extras & {"forest", "city", "horizon"}:
        extras.add("hills")
    studio = None
    habitats = {p.item.subject.habitat for p in layout.placements}
    if layout.mode in ("float", "abstract") and habitats <= {"float"} and not parsed.scenes:
        main = layout.placements[0].item.colour or layout.placements[0].item.subject.colours["main"]
        studio = mix(main, "#ffffff", 0.86)
    return Scene(sky, ground, frozenset(extras), parsed.background, studio)


def backdrop(
    scene: Scene, layout: Layout, style: Style, defs: Defs, noise: Noise
) -> tuple[str, str]:
    """(what goes behind the subjects, what goes in front of them)."""
    painter = {
        "scene": _scene,
        "plain": _plain,
        "soft": _soft,
        "blank": _blank,
        "paper": _paper,
    }[style.backdrop]
    return painter(scene, layout, style, defs, noise)


def base_colour(scene: Scene, style: Style) -> str:
    """The colour most of the backdrop has: what ground shadows are a darker shade of."""
    if style.backdrop == "paper":
        return style.paper
    if scene.background:
        return scene.background
    if scene.studio:
        return scene.studio
    top, bottom = SKIES[scene.sky]
    if style.backdrop in ("plain", "blank", "soft"):
        return _quiet(scene)
    return mix(top, bottom, 0.5)


def _quiet(scene: Scene) -> str:
    top, bottom = SKIES[scene.sky]
    if scene.sky in ("night", "space"):
        return mix(top, bottom, 0.55)
    return mix(bottom, "#ffffff", 0.55)


def _rect(fill: str) -> str:
    return f'<rect width="512" height="512" fill="{fill}"/>'


def _dark(scene: Scene) -> bool:
    return scene.sky in ("night", "space", "underwater") or (
        scene.background is not None and luminance(scene.background) < 0.35
    )


# --- Full scenes: flat, gradient, 3d, cartoon ---------------------------------------------------


def _scene(scene: Scene, layout: Layout, style: Style, defs: Defs, noise: Noise) -> tuple[str, str]:
    tone = style.tone
    shaded = style.fill in ("linear", "radial")
    top, bottom = (tone(c) for c in SKIES[scene.sky])
    if scene.background:
        top, bottom = tone(scene.background), tone(tint(scene.background, 0.35))
    elif scene.studio:
        top, bottom = tone(scene.studio), tone(tint(scene.studio, 0.5))
    outline = f' stroke="{style.ink}" stroke-width="{n(style.outline_px)}"' if style.outline else ""
    out = [_rect(defs.linear(top, bottom) if shaded else mix(top, bottom, 0.45))]
    front: list[str] = []
    underwater = layout.mode == "water" and scene.sky == "underwater"
    if "stars" in scene.extras and not underwater:
        out.append(_stars(noise, GROUND_Y - 40 if layout.mode == "ground" else FRAME, 34))
    if scene.sky == "sunset" and layout.mode == "ground":
        glow = defs.glow("#fff3b0") if shaded else "#ffe9a8"
        out.append(f'<circle cx="256" cy="{n(GROUND_Y)}" r="150" fill="{glow}" opacity="0.7"/>')
    if underwater:
        out += _seabed(style, noise)
    elif layout.mode == "water":
        out.append(_sea_surface(SEA_LEVEL, tone(SEA), style, defs, shaded, outline))
    if layout.mode == "ground":
        ground = tone(GROUNDS[scene.ground])
        if scene.sky in ("night", "space"):
            ground = mix(ground, "#0b1533", 0.45)
        elif scene.sky == "sunset":
            ground = mix(ground, "#7b3f6b", 0.2)
        out += _distance(scene, ground, top, noise, style)
        fill = defs.linear(tint(ground, 0.15), shade(ground, 0.2)) if shaded else ground
        out.append(
            f'<path d="M0 {n(GROUND_Y - 4)}Q128 {n(GROUND_Y - 14)} 256 {n(GROUND_Y - 5)}'
            f'T512 {n(GROUND_Y - 8)}V512H0Z" fill="{fill}"{outline}/>'
        )
        if "garden" in scene.extras:
            out.append(_flowers(noise))
        if layout.sea_from is not None:
            out.append(
                _sea_surface(GROUND_Y - 6, tone(SEA), style, defs, shaded, outline, layout.sea_from)
            )
    if "rain" in scene.extras:
        front.append(_rain(noise, "#dbeafe"))
    if "snowfall" in scene.extras:
        front.append(_snowfall(noise))
    return "".join(out), "".join(front)


def _distance(scene: Scene, ground: str, sky: str, noise: Noise, style: Style) -> list[str]:
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


def _sea_surface(
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


def _seabed(style: Style, noise: Noise) -> list[str]:
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


def _stars(noise: Noise, below: float, count: int) -> str:
    dots = []
    for i in range(count):
        x = noise.between(f"starx{i}", 8, 504)
        y = noise.between(f"stary{i}", 8, max(40.0, below))
        r = noise.between(f"starr{i}", 0.8, 2.4)
        dots.append(f'<circle cx="{n(x)}" cy="{n(y)}" r="{n(r)}"/>')
    return f'<g fill="#ffffff" opacity="0.8">{"".join(dots)}</g>'


def _flowers(noise: Noise) -> str:
    out = []
    for i in range(14):
        x = noise.between(f"flx{i}", 10, 502)
        y = noise.between(f"fly{i}", GROUND_Y + 14, 500)
        colour = ("#f472b6", "#facc15", "#ffffff", "#a78bfa")[i % 4]
        out.append(f'<circle cx="{n(x)}" cy="{n(y)}" r="4" fill="{colour}"/>')
    return "".join(out)


def _rain(noise: Noise, colour: str) -> str:
    d = []
    for i in range(40):
        x = noise.between(f"rainx{i}", 0, 512)
        y = noise.between(f"rainy{i}", 0, 480)
        d.append(f"M{n(x)} {n(y)}l-6 16")
    return (
        f'<path d="{"".join(d)}" stroke="{colour}" stroke-width="2.2" stroke-linecap="round" '
        'opacity="0.75" fill="none"/>'
    )


def _snowfall(noise: Noise) -> str:
    dots = []
    for i in range(36):
        x = noise.between(f"snowx{i}", 0, 512)
        y = noise.between(f"snowy{i}", 0, 500)
        r = noise.between(f"snowr{i}", 1.5, 4)
        dots.append(f'<circle cx="{n(x)}" cy="{n(y)}" r="{n(r)}"/>')
    return f'<g fill="#ffffff" opacity="0.9">{"".join(dots)}</g>'


# --- Quieter backdrops ---------------------------------------------------------------------------


def _plain(scene: Scene, layout: Layout, style: Style, defs: Defs, noise: Noise) -> tuple[str, str]:
    bg = base_colour(scene, style)
    out = [_rect(bg)]
    if layout.mode == "ground":
        floor = mix(bg, GROUNDS[scene.ground], 0.28 if luminance(bg) > 0.5 else 0.2)
        out.append(
            f'<rect y="{n(GROUND_Y)}" width="512" height="{n(FRAME - GROUND_Y)}" fill="{floor}"/>'
        )
        if layout.sea_from is not None:
            sea = mix(bg, SEA, 0.4)
            out.append(
                f'<rect x="{n(layout.sea_from)}" y="{n(GROUND_Y - 4)}" width="512" height="120" '
                f'fill="{sea}"/>'
            )
    elif layout.mode == "water":
        out.append(
            f'<rect y="{n(SEA_LEVEL)}" width="512" height="{n(FRAME - SEA_LEVEL)}" '
            f'fill="{mix(bg, SEA, 0.2)}"/>'
        )
    return "".join(out), ""


def _soft(scene: Scene, layout: Layout, style: Style, defs: Defs, noise: Noise) -> tuple[str, str]:
    dark = _dark(scene)
    if scene.background:
        a, b = scene.background, mix(scene.background, "#ffffff", 0.35)
    elif scene.studio:
        a, b = scene.studio, mix(scene.studio, "#c7d2fe", 0.4)
    elif dark:
        a, b = "#1e1b4b", "#4c1d95" if scene.sky != "underwater" else "#0e7490"
    elif scene.sky == "sunset":
        a, b = "#fde68a", "#f9a8d4"
    else:
        a, b = "#e0f2fe", "#fce7f3"
    out = [_rect(defs.linear(a, b, diagonal=True))]
    focus = layout.focus
    if focus is not None:
        first = layout.placements[-1].item if layout.placements else None
        accent = (first.colour or first.subject.colours["main"]) if first is not None else "#a5b4fc"
        disc = mix(style.tone(accent), b, 0.72 if not dark else 0.6)
        r = max(focus.w, focus.h) * 0.62 + 20
        cy = focus.cy - (10 if layout.mode == "ground" else 0)
        out.append(f'<circle cx="{n(focus.cx)}" cy="{n(cy)}" r="{n(min(r, 236))}" fill="{disc}"/>')
        if layout.mode == "ground":
            pad = 26
            platform = mix(b, "#312e81", 0.22) if not dark else mix(b, "#000000", 0.3)
            out.append(
                f'<rect x="{n(focus.x - pad)}" y="{n(GROUND_Y - 3)}" width="{n(focus.w + 2 * pad)}" '
                f'height="18" rx="9" fill="{platform}"/>'
            )
    if "stars" in scene.extras:
        out.append(_stars(noise, FRAME, 18))
    return "".join(out), ""


def _blank(scene: Scene, layout: Layout, style: Style, defs: Defs, noise: Noise) -> tuple[str, str]:
    bg = scene.background or ("#1d2233" if _dark(scene) else "#f6f5f1")
    out = [_rect(bg)]
    if layout.mode == "ground" and layout.focus is not None:
        focus = layout.focus
        line = mix(bg, "#000000", 0.18) if luminance(bg) > 0.5 else mix(bg, "#ffffff", 0.3)
        out.append(
            f'<path d="M{n(max(24, focus.x - 30))} {n(GROUND_Y + 4)}H{n(min(488, focus.right + 30))}" '
            f'stroke="{line}" stroke-width="3" stroke-linecap="round"/>'
        )
    return "".join(out), ""


def _paper(scene: Scene, layout: Layout, style: Style, defs: Defs, noise: Noise) -> tuple[str, str]:
    paper = style.paper
    if scene.background and style.name != "line-art":
        paper = tint(scene.background, 0.7)
    ink = style.ink if style.outline == "ink" else "#7a8699"
    stroke = (
        f'fill="none" stroke="{ink}" stroke-width="{n(style.outline_px)}" stroke-linecap="round"'
    )
    out = [_rect(paper)]
    if layout.mode == "ground":
        end = layout.sea_from if layout.sea_from is not None else 488.0
        out.append(f'<path d="M24 {n(GROUND_Y + 3)}H{n(max(24.0, end))}" {stroke}/>')
        if layout.sea_from is not None:
            x0 = max(24.0, layout.sea_from)
            waves = "".join(
                f"M{n(x)} {n(GROUND_Y + 2 + row * 22)}q12 -9 24 0t24 0"
                for row in range(3)
                for x in range(int(x0) + row * 14, 470, 64)
            )
            out.append(f'<path d="{waves}" {stroke}/>')
        elif "horizon" in scene.extras:
            out.append(f'<path d="M24 {n(GROUND_Y - 56)}H488" {stroke}/>')
    elif layout.mode == "water":
        y = SEA_LEVEL if any(p.item.subject.habitat == "sky" for p in layout.placements) else 60
        waves = "".join(f"M{x} {n(y)}q12 -9 24 0t24 0" for x in range(40, 470, 80))
        out.append(f'<path d="{waves}" {stroke}/>')
    if "stars" in scene.extras:
        sparkles = "".join(
            f"M{n(x)} {n(y - 5)}v10M{n(x - 5)} {n(y)}h10"
            for i in range(7)
            for x, y in [(noise.between(f"spx{i}", 30, 480), noise.between(f"spy{i}", 24, 150))]
        )
        out.append(f'<path d="{sparkles}" {stroke}/>')
    return "".join(out), ""
