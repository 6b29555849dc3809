"""Prompt and style in, SVG document out: parse, lay out, paint the scene, draw each subject."""

from __future__ import annotations

import re

from .abstract import composition
from .backdrops import Scene, backdrop, base_colour, resolve
from .geometry import FRAME, GROUND_Y, Box, Item, Layout, Noise, Placement
from .layout import arrange
from .parser import ParsedPrompt, parse, with_scene_subjects
from .styles import Defs, Style, draw, shadow, style_named

# Characters XML 1.0 cannot carry (controls, surrogates, U+FFFE/U+FFFF) are dropped from the title.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TITLE_MAX = 200


def render(prompt: str, style: str, variant: int = 0) -> str:
    """The picture for `prompt` in `style`: the same arguments always give the same document.
    Another `variant` lays the same subjects out with other jitter."""
    chosen = style_named(style)
    parsed = with_scene_subjects(parse(prompt))
    noise = Noise(" ".join(prompt.split()).lower() + (f"\x00{variant}" if variant else ""))
    defs = Defs()
    layout = _fit(arrange(parsed, noise), chosen) if parsed.mentions else _abstract(parsed, noise)
    scene = resolve(parsed, layout)
    behind, front = backdrop(scene, layout, chosen, defs, noise)
    body = _shadows(layout, chosen, scene) + [draw(p, chosen, defs) for p in layout.placements]
    return document(prompt, defs.markup() + behind + "".join(body) + front)


def plan(prompt: str) -> tuple[ParsedPrompt, Layout]:
    """What render() would draw, before any style: for tests and the quality bench."""
    parsed = with_scene_subjects(parse(prompt))
    noise = Noise(" ".join(prompt.split()).lower())
    if not parsed.mentions:
        return parsed, _abstract(parsed, noise)
    return parsed, arrange(parsed, noise)


def document(prompt: str, content: str) -> str:
    title = " ".join(_NOT_XML.sub("", prompt).split())[:_TITLE_MAX]
    title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="512" height="512">'
        + (f"<title>{title}</title>" if title else "")
        + content
        + "</svg>"
    )


def _abstract(parsed: ParsedPrompt, noise: Noise) -> Layout:
    art = composition(parsed.unknown, parsed.colours, noise)
    item = Item(art, 0, 0, None, None, 1.0)
    return Layout((Placement(item, Box(0.0, 0.0, FRAME, FRAME)),), "abstract")


def _fit(layout: Layout, style: Style) -> Layout:
    """Styles that want more empty space draw the same layout smaller, about its ground."""
    if style.scale == 1.0:
        return layout
    k = style.scale
    oy = GROUND_Y if layout.mode == "ground" else FRAME / 2
    placements = tuple(
        Placement(p.item, p.box.scaled(k, FRAME / 2, oy), p.flip, p.grounded)
        for p in layout.placements
    )
    focus = layout.focus.scaled(k, FRAME / 2, oy) if layout.focus else None
    sea = layout.sea_from
    return Layout(placements, layout.mode, layout.ground_y, sea, focus)


def _shadows(layout: Layout, style: Style, scene: Scene) -> list[str]:
    if not style.shadows:
        return []
    colour = base_colour(scene, style)
    return [shadow(p, style, colour) for p in layout.placements if p.grounded]
