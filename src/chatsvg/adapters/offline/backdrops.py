"""The scene behind (and, for rain and snow, in front of) the subjects, in each style's manner.

The scene comes from the prompt's words ("night", "beach", "forest", ...), then from its subjects
(a moon means night, a rocket or planet means space, a fish without land means underwater), and
the layout says where the ground line and the sea are.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import scenery
from .drawing import luminance, mix, n, shade, tint
from .geometry import FRAME, GROUND_Y, SEA_LEVEL, Layout, Noise
from .parser import ParsedPrompt
from .scenery import GROUNDS, SEA, SKIES
from .styles import Defs, Style

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
        out.append(scenery.stars(noise, GROUND_Y - 40 if layout.mode == "ground" else FRAME, 34))
    if scene.sky == "sunset" and layout.mode == "ground":
        glow = defs.glow("#fff3b0") if shaded else "#ffe9a8"
        out.append(f'<circle cx="256" cy="{n(GROUND_Y)}" r="150" fill="{glow}" opacity="0.7"/>')
    if underwater:
        out += scenery.seabed(style, noise)
    elif layout.mode == "water":
        out.append(scenery.sea_surface(SEA_LEVEL, tone(SEA), style, defs, shaded, outline))
    if layout.mode == "ground":
        ground = tone(GROUNDS[scene.ground])
        if scene.sky in ("night", "space"):
            ground = mix(ground, "#0b1533", 0.45)
        elif scene.sky == "sunset":
            ground = mix(ground, "#7b3f6b", 0.2)
        out += scenery.distance(scene, ground, top, noise, style)
        fill = defs.linear(tint(ground, 0.15), shade(ground, 0.2)) if shaded else ground
        out.append(
            f'<path d="M0 {n(GROUND_Y - 4)}Q128 {n(GROUND_Y - 14)} 256 {n(GROUND_Y - 5)}'
            f'T512 {n(GROUND_Y - 8)}V512H0Z" fill="{fill}"{outline}/>'
        )
        if "garden" in scene.extras:
            out.append(scenery.flowers(noise))
        if layout.sea_from is not None:
            out.append(
                scenery.sea_surface(
                    GROUND_Y - 6, tone(SEA), style, defs, shaded, outline, layout.sea_from
                )
            )
    if "rain" in scene.extras:
        front.append(scenery.rain(noise, "#dbeafe"))
    if "snowfall" in scene.extras:
        front.append(scenery.snowfall(noise))
    return "".join(out), "".join(front)


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
        out.append(scenery.stars(noise, FRAME, 18))
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
