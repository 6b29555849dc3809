"""Where each subject goes: relations first, then the clusters they make, then the frame.

Every mention becomes one or more items (its copies). A relation hangs its mover from its anchor,
so the mentions form small trees; each tree is arranged in scene units around its root (the fox
below the moon, the cat peeking out of the box, the bird inside the tree's crown) and becomes a
cluster. Clusters are then placed in a 512x512 frame by habitat: grounded ones along the ground
line, sky ones in the band above, floating and swimming ones in a row of their own. One scale
fits everything, so relative sizes (a tree taller than a cat) survive.
"""

from __future__ import annotations

from .clusters import Arranger, items_of
from .geometry import (
    FRAME,
    GROUND_Y,
    GROUNDED,
    MARGIN,
    SEA_LEVEL,
    SKY_BAND,
    Box,
    Layout,
    Node,
    Noise,
    Placement,
    bbox,
)
from .parser import ParsedPrompt


def arrange(parsed: ParsedPrompt, noise: Noise) -> Layout:
    items = items_of(parsed, noise)
    if not items:
        return Layout((), "float")
    arranger = Arranger(parsed, items, noise)
    clusters: list[list[Node]] = []
    scattered: list[list[Node]] = []
    for root in arranger.roots():
        subject = items[root][0].subject
        if subject.habitat == "sky" and len(items[root]) > 1 and root not in arranger.children:
            # Loose stars and birds: each copy is its own little cluster, scattered over the sky.
            scattered += [[Node(item, item.box(), 0.0)] for item in items[root]]
        else:
            clusters.append(arranger.build(root))
    return _frame(clusters, scattered, parsed, noise)


def _habitat(cluster: list[Node]) -> str:
    root = min(cluster, key=lambda n: (n.item.mention, n.item.copy))
    habitats = {n.item.subject.habitat for n in cluster}
    if root.item.subject.habitat == "sky" and habitats & {"ground", "surface"}:
        return "ground"  # "a cat on the moon" stands on something: still the sky's
    return root.item.subject.habitat


def _frame(
    clusters: list[list[Node]], scattered: list[list[Node]], parsed: ParsedPrompt, noise: Noise
) -> Layout:
    kinds = [_habitat(c) for c in clusters]
    sky = [c for c, k in zip(clusters, kinds, strict=True) if k == "sky"]
    row = [c for c, k in zip(clusters, kinds, strict=True) if k != "sky"]
    row_kinds = [k for k in kinds if k != "sky"]
    # Boats sail (and whales swim) to the right of the land.
    order = sorted(range(len(row)), key=lambda i: row_kinds[i] in ("surface", "water"))
    row = [row[i] for i in order]
    row_kinds = [row_kinds[i] for i in order]
    underwater = "underwater" in parsed.scenes
    grounded = any(k in GROUNDED for k in row_kinds) and not underwater
    placed: list[tuple[Node, bool]] = []
    band = (MARGIN, MARGIN + SKY_BAND * 0.95)
    up_there = sky + scattered
    tied = any(node.aloft is not None for cluster in row for node in cluster)

    if grounded:
        mode = "ground"
        top = MARGIN + (SKY_BAND if up_there or tied else 0.0)
        scale = _row(row, row_kinds, top, GROUND_Y, noise, placed, baseline=True)
        _sky(up_there, scale, noise, placed, band)
    elif row:
        mode = "water" if "water" in row_kinds or underwater else "float"
        top = MARGIN + (SKY_BAND if up_there or tied else 40.0 if mode == "float" else 20.0)
        if mode == "water" and up_there:
            top = SEA_LEVEL + 16
        bottom = FRAME - MARGIN - (40.0 if mode == "float" else 20.0)
        scale = _row(row, row_kinds, top, bottom, noise, placed, baseline=False)
        _sky(up_there, scale, noise, placed, band)
    elif sky:
        # Only sky things: the named ones are the picture, loose copies scatter above them.
        mode = "float"
        top = MARGIN + (SKY_BAND * 0.8 if scattered else 40.0)
        scale = _row(sky, ["sky"] * len(sky), top, FRAME - MARGIN - 50, noise, placed, False)
        _sky(scattered, scale * 0.7, noise, placed, (MARGIN, MARGIN + SKY_BAND * 0.75))
    else:
        mode = "float"
        _sky(scattered, 400.0, noise, placed, (MARGIN + 40, FRAME - MARGIN - 60), cap=260.0)
    placements = _orient(placed, noise)
    sea_from = None
    if mode == "ground":
        surface = [
            p
            for p in placements
            if p.item.subject.habitat == "surface"
            or (p.item.subject.habitat == "water" and p.box.bottom > GROUND_Y)
        ]
        land = [p for p in placements if p.grounded and p.item.subject.habitat == "ground"]
        if surface:
            sea_from = (
                0.0
                if not land
                else (max(p.box.right for p in land) + min(p.box.x for p in surface)) / 2
            )
    focus = None
    if placements:
        main = [p for p in placements if p.item.subject.habitat != "sky"] or list(placements)
        focus = main[0].box
        for p in main[1:]:
            focus = focus.union(p.box)
    return Layout(
        tuple(placements),
        mode,
        GROUND_Y if mode == "ground" else None,
        sea_from,
        focus,
    )


def _row(
    row: list[list[Node]],
    kinds: list[str],
    top: float,
    bottom: float,
    noise: Noise,
    placed: list[tuple[Node, bool]],
    baseline: bool,
) -> float:
    """Place clusters side by side between `top` and `bottom`; returns the px-per-unit scale."""
    if not row:
        return 160.0
    boxes = [bbox(c) for c in row]
    gaps = [noise.between(f"gap{i}", 0.25, 0.5) for i in range(len(row) - 1)]
    total = sum(b.w for b in boxes) + sum(gaps)
    tallest = max(b.h for b in boxes)
    scale = min((FRAME - 2 * MARGIN - 20) / total, (bottom - top) / tallest, FRAME * 0.6 / tallest)
    x = (FRAME - total * scale) / 2 + noise.between("rowx", -0.5, 0.5) * min(
        30.0, FRAME - 2 * MARGIN - total * scale
    ) / 2
    float_centre = (top + bottom) / 2
    if baseline:
        heights = [b.h for b, k in zip(boxes, kinds, strict=True) if k in GROUNDED]
        float_centre = bottom - (max(heights) if heights else 1.0) * scale * 0.55
    for i, (cluster, box, kind) in enumerate(zip(row, boxes, kinds, strict=True)):
        w, h = box.w * scale, box.h * scale
        if baseline and kind in GROUNDED:
            sink = 0.12 * h if kind == "surface" else noise.between(f"sink{i}", 2.0, 10.0)
            y = bottom + sink - h
        elif baseline and kind == "water" and any(k == "surface" for k in kinds):
            y = bottom + 0.3 * h - h  # swimming at the surface, by the boats
        elif baseline:
            y = float_centre - h / 2
        else:
            y = (top + bottom) / 2 - h / 2 + noise.between(f"bob{i}", -12.0, 12.0)
        root = min(cluster, key=lambda n: (n.item.mention, n.item.copy))
        aloft = [node for node in cluster if node.aloft is not None]
        cluster = [node for node in cluster if node.aloft is None]
        for node in cluster:
            b = node.box
            node.box = Box(
                x + (b.x - box.x) * scale, y + (b.y - box.y) * scale, b.w * scale, b.h * scale
            )
        _aloft(aloft, scale, noise, placed)
        for node in sorted(cluster, key=lambda n: n.z):
            on_ground = (
                baseline
                and kind in GROUNDED
                and node.item.subject.habitat in GROUNDED
                and abs(node.box.bottom - root.box.bottom) < 4.0 + 0.12 * h
            )
            placed.append((node, on_ground))
        x += w + (gaps[i] * scale if i < len(gaps) else 0.0)
    return scale


def _aloft(nodes: list[Node], scale: float, noise: Noise, placed: list[tuple[Node, bool]]) -> None:
    """Sky things tied to something below: above it, between the frame's top and its head."""
    anchors: dict[int, list[Node]] = {}
    for node in nodes:
        anchors.setdefault(id(node.aloft), []).append(node)
    for group in anchors.values():
        under = group[0].aloft
        assert under is not None
        box = bbox([Node(n.item, n.box, n.z) for n in group])
        room = under.box.y - 16 - MARGIN
        k = min(scale, max(room, 56.0) / box.h, FRAME * 0.3 / box.h)
        w, h = box.w * k, box.h * k
        cx = under.box.cx + noise.between(f"aloft{under.item.key}", -0.25, 0.25) * under.box.w
        x = min(max(cx - w / 2, MARGIN * 0.5), FRAME - MARGIN * 0.5 - w)
        y = max(MARGIN * 0.6, under.box.y - 16 - h)
        for node in group:
            b = node.box
            node.box = Box(x + (b.x - box.x) * k, y + (b.y - box.y) * k, b.w * k, b.h * k)
        for node in sorted(group, key=lambda n: n.z):
            placed.insert(0, (node, False))


def _sky(
    sky: list[list[Node]],
    scale: float,
    noise: Noise,
    placed: list[tuple[Node, bool]],
    band: tuple[float, float],
    cap: float = 190.0,
) -> None:
    """Spread sky clusters over a band: one goes to a corner, several share the width."""
    if not sky:
        return
    top, bottom = band
    boxes = [bbox(c) for c in sky]
    tallest = max(b.h for b in boxes)
    count = len(sky)
    slot = (FRAME - 2 * MARGIN) / count
    k = min(scale, (bottom - top) / tallest, min(slot * 0.8 / b.w for b in boxes), cap)
    at_right = noise.flag("corner")
    start = 0  # drawn first: behind whatever stands on the ground
    for i, (cluster, box) in enumerate(zip(sky, boxes, strict=True)):
        w, h = box.w * k, box.h * k
        if count == 1:
            cx = FRAME * (0.76 if at_right else 0.24)
        else:
            cx = MARGIN + slot * (i + 0.5) + noise.between(f"skyx{i}", -0.18, 0.18) * slot
        spare = max(0.0, bottom - top - h)
        y = top + (spare * noise.unit(f"skyy{i}") if count > 1 else spare * 0.2)
        x = min(max(cx - w / 2, MARGIN * 0.5), FRAME - MARGIN * 0.5 - w)
        for node in cluster:
            b = node.box
            node.box = Box(x + (b.x - box.x) * k, y + (b.y - box.y) * k, b.w * k, b.h * k)
        for node in sorted(cluster, key=lambda n: n.z):
            placed.insert(start, (node, False))
            start += 1


def _orient(placed: list[tuple[Node, bool]], noise: Noise) -> list[Placement]:
    """Side-facing subjects look towards the middle of the picture (or, alone, either way)."""
    out = []
    centre = FRAME / 2
    for node, grounded in placed:
        flip = False
        if node.item.subject.facing == "right":
            dx = node.box.cx - centre
            flip = dx > 24 if abs(dx) > 24 else noise.flag(f"flip{node.item.key}")
        out.append(Placement(node.item, node.box, flip, grounded))
    return out
