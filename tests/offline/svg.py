"""Reading the offline model's SVGs back: the drawn subjects, their boxes, paints and pixels."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from chatsvg.adapters.offline.geometry import Box
from tests.sanitizer.raster import differing_share
from tests.sanitizer.raster import render as rasterize

NS = "{http://www.w3.org/2000/svg}"
SHAPES = ("path", "circle", "ellipse", "rect", "polygon")
_TRANSLATE = re.compile(r"translate\(([-\d.]+) ([-\d.]+)\) scale\(([-\d.]+)(?: ([-\d.]+))?\)")


@dataclass(frozen=True)
class Drawn:
    """One subject group: its id (name-mention-copy) and its place in the frame."""

    id: str
    x: float
    y: float
    scale: float
    flipped: bool
    element: ET.Element

    @property
    def name(self) -> str:
        return self.id.rsplit("-", 2)[0] if not self.id.endswith("-front") else self.id


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def subjects(svg: str) -> list[Drawn]:
    """The subject groups, in drawing order."""
    out = []
    for g in parse(svg).iter(f"{NS}g"):
        match = _TRANSLATE.fullmatch(g.get("transform", ""))
        if g.get("id") and match:
            x, y, sx = float(match[1]), float(match[2]), float(match[3])
            out.append(Drawn(g.get("id", ""), x, y, abs(sx), sx < 0, g))
    return out


def names(svg: str) -> list[str]:
    return [d.name for d in subjects(svg) if not d.id.endswith("-front")]


def shapes(element: ET.Element) -> list[ET.Element]:
    return [e for e in element.iter() if e.tag[len(NS) :] in SHAPES]


def colour_count(svg: str) -> int:
    return len(set(re.findall(r'(?:fill|stroke|stop-color)="(#[0-9a-f]{6})"', svg)))


def pixels(svg: str, width: int = 96) -> bytes:
    return rasterize(svg, width).rgba()


def distinct_pixels(svg: str) -> int:
    rgba = pixels(svg)
    return len({rgba[i : i + 4] for i in range(0, len(rgba), 4)})


def without_subjects(svg: str) -> str:
    """The same picture with every subject group taken out: its backdrop alone."""
    return re.sub(r'<g id="[^"]+" transform="[^"]+"[^>]*>.*?</g>', "", svg)


def subject_share(svg: str) -> float:
    """The share of the picture's pixels that its subjects change."""
    return differing_share(rasterize(svg), rasterize(without_subjects(svg)))


def box_of(box: Box) -> tuple[float, float, float, float]:
    return (box.x, box.y, box.right, box.bottom)
