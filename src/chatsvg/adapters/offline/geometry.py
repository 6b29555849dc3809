"""The shapes a layout is made of: the frame, boxes, items, placements, and deterministic jitter."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .drawing import Subject

FRAME = 512.0
GROUND_Y = 404.0
MARGIN = 26.0
SKY_BAND = 140.0  # room kept above grounded clusters for the sky's own subjects
SEA_LEVEL = 190.0  # the water line when swimmers share the picture with the sky
GROUNDED = ("ground", "surface")


class Noise:
    """Deterministic jitter: the same seed and key always give the same number in [0, 1)."""

    def __init__(self, seed: str) -> None:
        self._seed = seed.encode("utf-8", "surrogatepass")

    def unit(self, key: str) -> float:
        digest = hashlib.blake2b(self._seed + b"\x00" + key.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def between(self, key: str, low: float, high: float) -> float:
        return low + (high - low) * self.unit(key)

    def flag(self, key: str) -> bool:
        return self.unit(key) < 0.5


@dataclass(frozen=True, slots=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.x + dx, self.y + dy, self.w, self.h)

    def scaled(self, k: float, ox: float = 0.0, oy: float = 0.0) -> Box:
        return Box(ox + (self.x - ox) * k, oy + (self.y - oy) * k, self.w * k, self.h * k)

    def union(self, other: Box) -> Box:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Box(x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y)


@dataclass(frozen=True, slots=True)
class Item:
    subject: Subject
    mention: int
    copy: int
    colour: str | None
    variant: str | None
    size: float
    layer: str = ""  # "front": only the parts that hide what the subject holds (a boat's hull)

    @property
    def key(self) -> str:
        key = f"{self.subject.name}-{self.mention + 1}-{self.copy + 1}"
        return f"{key}-front" if self.layer == "front" else key

    def box(self) -> Box:
        w, h = self.subject.size
        height = self.subject.height * self.size
        return Box(0.0, -height, height * w / h, height)


@dataclass(frozen=True, slots=True)
class Placement:
    item: Item
    box: Box  # in the 512x512 frame
    flip: bool = False
    grounded: bool = False  # stands on the ground line: it casts a shadow there


@dataclass(frozen=True, slots=True)
class Layout:
    placements: tuple[Placement, ...]  # in drawing order
    mode: str  # ground | water | float
    ground_y: float | None = None
    sea_from: float | None = None  # the ground turns to sea from this x on
    focus: Box | None = None  # where the main cluster is, for backdrops that frame it


@dataclass(slots=True)
class Node:
    item: Item
    box: Box
    z: float
    aloft: Node | None = None  # up in the sky above this node, placed once the frame is known


def bbox(nodes: list[Node]) -> Box:
    """The box of the nodes that stand in the cluster (not those waiting for the sky)."""
    solid = [node for node in nodes if node.aloft is None] or nodes
    box = solid[0].box
    for node in solid[1:]:
        box = box.union(node.box)
    return box


def shift(nodes: list[Node], dx: float, dy: float, dz: float = 0.0) -> None:
    for node in nodes:
        node.box = node.box.moved(dx, dy)
        node.z += dz


def scale_nodes(nodes: list[Node], k: float, ox: float, oy: float) -> None:
    for node in nodes:
        node.box = node.box.scaled(k, ox, oy)
