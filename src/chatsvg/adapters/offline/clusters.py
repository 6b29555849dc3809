"""Clusters: the mentions a relation ties together, arranged around their root in scene units.

A relation hangs its mover from its anchor, so the mentions form small trees. Each tree is laid
out around its root, in scene units (a sitting cat is one unit tall): the fox under the moon,
the cat peeking out of the box, the bird inside the tree's crown. The frame comes later.
"""

from __future__ import annotations

from dataclasses import replace

from .drawing import Subject
from .geometry import GROUNDED, Box, Item, Node, Noise, bbox, scale_nodes, shift
from .parser import Mention, ParsedPrompt, Relation
from .subjects import SUBJECTS


def items_of(parsed: ParsedPrompt, noise: Noise) -> list[list[Item]]:
    out: list[list[Item]] = []
    for index, mention in enumerate(parsed.mentions):
        subject = SUBJECTS[mention.subject]
        copies = []
        for copy in range(mention.count):
            wobble = 1.0 if copy == 0 else noise.between(f"size{index}.{copy}", 0.82, 1.08)
            copies.append(
                Item(subject, index, copy, mention.colour, mention.variant, mention.size * wobble)
            )
        out.append(copies)
    return out


def normalise(parsed: ParsedPrompt) -> list[Relation]:
    """ "A fox under the moon" is drawn as "the moon above the fox": the grounded thing anchors."""
    movers = {r.mover for r in parsed.relations}
    out = []
    for r in parsed.relations:
        mover = SUBJECTS[parsed.mentions[r.mover].subject]
        anchor = SUBJECTS[parsed.mentions[r.anchor].subject]
        swap = {"below": "above", "above": "below"}
        if (
            r.kind in swap
            and anchor.habitat == "sky"
            and mover.habitat != "sky"
            and r.anchor not in movers
        ):
            out.append(Relation(r.anchor, swap[r.kind], r.mover))
            movers.discard(r.mover)
            movers.add(r.anchor)
        else:
            out.append(r)
    return out


class Arranger:
    def __init__(self, parsed: ParsedPrompt, items: list[list[Item]], noise: Noise) -> None:
        self.mentions: tuple[Mention, ...] = parsed.mentions
        self.items = items
        self.noise = noise
        self.relations = normalise(parsed)
        self.children: dict[int, list[Relation]] = {}
        for r in self.relations:
            self.children.setdefault(r.anchor, []).append(r)
        self.movers = {r.mover for r in self.relations}

    def roots(self) -> list[int]:
        return [i for i in range(len(self.mentions)) if i not in self.movers]

    def group(self, index: int) -> list[Node]:
        """A mention's copies side by side on one baseline (y = 0), a little varied."""
        nodes: list[Node] = []
        x = 0.0
        for item in self.items[index]:
            box = item.box()
            lift = 0.0
            if item.subject.habitat == "sky" and item.copy:
                lift = self.noise.between(f"lift{index}.{item.copy}", -0.5, 0.5) * box.h
            nodes.append(Node(item, box.moved(x, lift), float(item.copy) * 0.01))
            gap = 0.35 if item.subject.habitat == "sky" else 0.08
            if item.subject.habitat == "ground" and item.subject.height >= 1.8:
                gap = -0.18  # mountains make a range, trees a wood
            x += box.w * (1 + gap)
        return nodes

    def build(self, index: int) -> list[Node]:
        nodes = self.group(index)
        anchor = bbox(nodes)
        subject = self.items[index][0].subject
        siblings: dict[str, int] = {}
        for relation in self.children.get(index, []):
            child = self.build(relation.mover)
            nth = siblings.get(relation.kind, 0)
            siblings[relation.kind] = nth + 1
            self.attach(nodes, anchor, subject, child, relation, nth)
            nodes += child
        return nodes

    def attach(
        self,
        nodes: list[Node],
        a: Box,
        anchor: Subject,
        child: list[Node],
        relation: Relation,
        nth: int,
    ) -> None:
        kind = relation.kind
        c = bbox(child)
        u = bbox(nodes)
        mover = child[0].item.subject
        jitter = self.noise.between(f"rel{relation.mover}", -0.12, 0.12) * a.w
        after = max(n.z for n in nodes) + 1 - min(n.z for n in child)
        before = min(n.z for n in nodes) - 1 - max(n.z for n in child)
        side = -1 if nth % 2 else 1
        if kind == "above" and mover.habitat == "sky" and anchor.habitat != "sky":
            # "The moon above the fox": in the sky band, over the fox, sized for the sky.
            for node in child:
                node.aloft = node.aloft or nodes[0]
                node.z += after
        elif kind == "above":
            gap = 0.12
            shift(child, a.cx - c.cx + jitter, u.y - gap - c.bottom, after)
        elif kind == "below":
            sheltered = anchor.habitat in GROUNDED and mover.habitat in ("ground", "float")
            if sheltered and a.h > c.h * 1.15:
                # "A cat under a tree": on the same ground, in front of the trunk.
                shift(child, a.cx - c.cx + jitter * 0.5, a.bottom - c.bottom, after)
            else:
                shift(child, a.cx - c.cx, u.bottom + 0.1 - c.y, after)
        elif kind == "on":
            top = a.y + anchor.seat * a.h + 0.04 * a.h
            spread = (nth + 1) // 2 * side * c.w * 1.05
            shift(child, a.cx - c.cx + spread, top - c.bottom, after)
        elif kind == "in":
            self._inside(child, a, anchor, before, after)
            if anchor.holds == "front" and anchor.cover:
                # Drawn over its back, under its front: the cat sits in the boat.
                shift(child, 0.0, 0.0, after - before)
                front = nodes[0]
                top = max(n.z for n in child) + 1
                child.append(Node(replace(front.item, layer="front"), front.box, top))
        elif kind in ("beside", "left", "right"):
            to_left = kind == "left" or (kind == "beside" and nth % 2 == 1)
            gap = 0.22
            dx = (u.x - gap - c.right) if to_left else (u.right + gap - c.x)
            grounded = mover.habitat in GROUNDED or mover.habitat == anchor.habitat
            dy = (a.bottom - c.bottom) if grounded else (a.cy - c.cy)
            shift(child, dx, dy, after)
        elif kind == "behind":
            if mover.habitat == "sky" and anchor.habitat != "sky":
                # "The sun behind the mountains": half hidden, as big as the view allows.
                k = max(1.0, min(0.75 * a.h / c.h, 0.5 * a.w / c.w))
                scale_nodes(child, k, c.cx, c.cy)
                c = bbox(child)
                shift(child, a.cx - c.cx + jitter, a.y + 0.2 * a.h - c.cy, before)
            else:
                scale_nodes(child, 0.9, c.cx, c.bottom)
                c = bbox(child)
                shift(
                    child, a.cx + side * a.w * 0.42 - c.cx, a.bottom - 0.1 * a.h - c.bottom, before
                )
        elif kind == "front":
            shift(child, a.cx - side * a.w * 0.3 - c.cx, a.bottom + 0.06 * a.h - c.bottom, after)

    def _inside(
        self, child: list[Node], a: Box, anchor: Subject, before: float, after: float
    ) -> None:
        c = bbox(child)
        sw, sh = anchor.size
        ix, iy, iw, ih = anchor.inner or (sw * 0.25, sh * 0.35, sw * 0.5, sh * 0.5)
        inner = Box(a.x + ix / sw * a.w, a.y + iy / sh * a.h, iw / sw * a.w, ih / sh * a.h)
        if anchor.holds == "front":
            # In the opening (inner's top edge is the container's rim): the top half shows.
            k = min(1.0, inner.w * 0.9 / c.w, a.h * 1.2 / c.h)
            scale_nodes(child, k, c.cx, c.bottom)
            c = bbox(child)
            shift(child, inner.cx - c.cx, inner.y + 0.45 * c.h - c.bottom, before)
        else:
            k = min(1.0, inner.w * 0.9 / c.w, inner.h * 0.9 / c.h)
            scale_nodes(child, k, c.cx, c.cy)
            c = bbox(child)
            shift(child, inner.cx - c.cx, inner.cy - c.cy, after)
