"""Sea creatures: they swim, so without land around them the scene goes underwater."""

from __future__ import annotations

import math

from ..drawing import (
    Part,
    band,
    circle,
    ellipse,
    eyes,
    faded,
    line,
    n,
    path,
    poly,
    spline,
    subject,
    tube,
)


def _tentacles() -> list[Part]:
    paths = [
        [(26, 54), (16, 70), (10, 86), (16, 97), (25, 92)],
        [(38, 58), (34, 74), (30, 90), (36, 98), (43, 93)],
        [(50, 60), (51, 76), (48, 90), (53, 98), (59, 92)],
        [(62, 58), (66, 74), (70, 90), (64, 98), (57, 93)],
        [(74, 54), (84, 70), (90, 86), (84, 97), (75, 92)],
    ]
    return [path(tube(spline(p), 13, 5)) for p in paths]


def _rounded_star(cx: float, cy: float, outer: float, inner: float) -> str:
    valleys = []
    tips = []
    for k in range(5):
        a = -math.pi / 2 + k * 2 * math.pi / 5
        b = a + math.pi / 5
        tips.append((cx + outer * 1.18 * math.cos(a), cy + outer * 1.18 * math.sin(a)))
        valleys.append((cx + inner * math.cos(b), cy + inner * math.sin(b)))
    d = [f"M{n(valleys[-1][0])} {n(valleys[-1][1])}"]
    for tip, valley in zip(tips, valleys, strict=True):
        d.append(f"Q{n(tip[0])} {n(tip[1])} {n(valley[0])} {n(valley[1])}")
    return "".join(d) + "Z"


SUBJECTS = (
    subject(
        "fish",
        (100, 66),
        [
            path("M24 36L2 12Q8 36 2 60Z", "main_dark"),
            path("M40 14Q52 0 70 10Q56 10 40 14Z", "main_dark"),
            path("M14 36Q34 8 64 10Q88 12 98 36Q88 60 64 62Q34 64 14 36Z"),
            poly(band(56, 36, 42, 26, 40, 48), "alt", 1),
            poly(band(56, 36, 42, 26, 60, 67), "alt", 1),
            path("M56 44Q66 52 58 60Q52 52 56 44Z", "main_dark", 2),
            circle(80, 31, 6, "white", 1),
            circle(81.5, 31, 3.4, "ink", 1),
            line("M96 40q-4 3 -8 0", "ink", 1.8, 2),
        ],
        main="#f97316",
        alt="#ffffff",
        words=(
            "+fish",
            "fishes",
            "goldfish",
            "clownfish",
            "nemo",
            "trout",
            "salmon fish",
            "tuna",
            "carp",
            "koi",
            "piranha",
            "guppy",
        ),
        habitat="water",
        height=0.55,
        facing="right",
    ),
    subject(
        "whale",
        (140, 90),
        [
            line("M100 22Q96 10 88 8M100 22Q104 10 112 8M100 22V4", "#8cc8ff", 3, 2),
            path("M30 56Q20 44 18 32Q8 32 2 24Q14 16 22 24Q24 14 34 8Q38 20 32 32Q32 42 38 52Z"),
            path("M22 54Q40 30 82 28Q128 26 136 58Q136 86 100 88H58Q32 86 22 54Z"),
            path("M40 74Q80 92 128 72Q122 88 100 88H58Q46 86 40 74Z", "alt", 1),
            circle(112, 54, 3.4, "ink", 1),
            line("M118 66Q126 68 132 62", "ink", 1.8, 2),
            path("M80 66Q86 78 74 84Q74 74 72 68Z", "main_dark", 1),
        ],
        main="#3b82f6",
        alt="#cfe3ff",
        words=("whales", "orca", "orcas", "blue whale", "humpback"),
        habitat="water",
        height=1.1,
        facing="right",
    ),
    subject(
        "dolphin",
        (130, 80),
        [
            path("M16 64Q4 56 0 70Q6 70 8 80Q14 72 20 62Z"),
            path("M58 22Q62 6 74 2Q70 12 72 22Z"),
            path(
                "M10 62Q24 28 64 20Q100 14 118 30Q128 34 126 38Q114 38 104 40Q90 50 60 50"
                "Q34 52 16 66Z"
            ),
            path("M30 54Q60 46 100 40Q112 40 122 38Q112 44 96 46Q70 52 42 56Z", "alt", 1),
            path("M72 46Q74 60 62 66Q64 56 62 48Z", "main_dark"),
            circle(104, 28, 2.8, "ink", 1),
            line("M110 36Q116 37 122 36", "ink", 1.4, 2),
        ],
        main="#6b9ac4",
        alt="#e2eef8",
        words=("dolphins", "porpoise"),
        habitat="water",
        height=0.75,
        facing="right",
    ),
    subject(
        "shark",
        (140, 70),
        [
            path("M28 36L6 4Q16 30 10 36Q16 42 8 66Z", "main_dark"),
            path("M60 20Q68 6 78 0Q76 10 80 18Z"),
            path("M20 36Q50 12 96 16Q126 18 138 36Q126 50 96 52Q50 56 20 36Z"),
            path("M40 44Q90 58 134 40Q126 50 96 52Q60 54 40 44Z", "alt", 1),
            path("M84 46L74 66L98 50Z", "main_dark"),
            line("M106 28v12M111 27v12M116 28v10", "main_dark", 1.6, 2),
            circle(122, 30, 2.8, "ink", 1),
            line("M116 42Q126 45 134 40", "ink", 1.6, 1),
        ],
        main="#7d8a9c",
        alt="#f1f4f8",
        words=("sharks", "great white", "hammerhead"),
        habitat="water",
        height=0.8,
        facing="right",
    ),
    subject(
        "octopus",
        (100, 100),
        [
            *_tentacles(),
            path("M14 50Q10 4 50 4Q90 4 86 50Q86 62 50 62Q14 62 14 50Z"),
            circle(38, 36, 8, "white", 1),
            circle(62, 36, 8, "white", 1),
            *eyes(39, 61, 37, 4.4),
            line("M44 48Q50 53 56 48", "ink", 1.8, 2),
            ellipse(28, 46, 5, 3, "#f9a8d4", 2),
            ellipse(72, 46, 5, 3, "#f9a8d4", 2),
        ],
        main="#9b5de5",
        words=("octopi", "octopuses", "squid", "squids", "kraken"),
        habitat="water",
        height=0.95,
    ),
    subject(
        "crab",
        (110, 80),
        [
            line(
                "M32 52L14 44L8 56M32 60L14 62L10 74M78 52L96 44L102 56M78 60L96 62L100 74",
                "main_dark",
                4,
                0,
            ),
            line("M36 42L22 28M74 42L88 28", "main", 5, 0),
            path("M22 30Q6 30 6 16Q6 2 18 2Q26 2 28 8L18 13L28 19Q28 30 22 30Z"),
            path("M88 30Q104 30 104 16Q104 2 92 2Q84 2 82 8L92 13L82 19Q82 30 88 30Z"),
            line("M46 34L44 22M64 34L66 22", "main_dark", 3, 0),
            ellipse(55, 52, 30, 20),
            circle(44, 19, 5, "white", 1),
            circle(66, 19, 5, "white", 1),
            circle(44, 19, 2.6, "ink", 1),
            circle(66, 19, 2.6, "ink", 1),
            line("M48 56Q55 61 62 56", "ink", 1.8, 2),
        ],
        main="#ef5a3c",
        words=("crabs", "lobster", "lobsters", "crayfish"),
        habitat="water",
        height=0.6,
    ),
    subject(
        "jellyfish",
        (80, 110),
        [
            line(
                "M22 50q-7 10 0 20t0 20t0 18M36 52q-7 10 0 20t0 20t0 14"
                "M46 52q7 10 0 20t0 20t0 14M58 50q7 10 0 20t0 20t0 18",
                "main_light",
                4,
                0,
            ),
            faded(
                path("M6 50Q6 6 40 6Q74 6 74 50Q66 46 58 50Q50 46 40 50Q30 46 22 50Q14 46 6 50Z"),
                0.92,
            ),
            *eyes(31, 49, 30, 3.6),
            line("M36 38Q40 42 44 38", "ink", 1.6, 2),
        ],
        main="#e879f9",
        words=("jellyfishes", "jelly fish", "jellies", "medusa"),
        habitat="water",
        height=0.85,
    ),
    subject(
        "starfish",
        (100, 100),
        [
            path(_rounded_star(50, 54, 46, 22)),
            circle(50, 24, 3, "alt", 2),
            circle(24, 46, 3, "alt", 2),
            circle(76, 46, 3, "alt", 2),
            circle(34, 80, 3, "alt", 2),
            circle(66, 80, 3, "alt", 2),
            *eyes(43, 57, 50, 3.6),
            line("M44 60Q50 65 56 60", "ink", 1.8, 2),
        ],
        main="#fb8c3c",
        alt="#fde0c2",
        words=("starfishes", "sea star", "sea stars"),
        habitat="water",
        height=0.6,
    ),
)
