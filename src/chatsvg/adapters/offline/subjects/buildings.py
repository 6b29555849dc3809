"""Buildings: homes, castles, towers and the odd pyramid."""

from __future__ import annotations

import math

from ..drawing import Part, circle, line, n, path, poly, rect, subject

GLASS = "#bfe3ff"


def _merlons(x0: float, y: float, width: float, count: int, size: float) -> str:
    step = (width - size) / (count - 1)
    return "".join(
        f"M{n(x0 + i * step)} {n(y)}h{n(size)}v{n(size)}h{n(-size)}Z" for i in range(count)
    )


def _blades(cx: float, cy: float, inner: float, outer: float, width: float) -> list[Part]:
    parts = []
    for k in range(4):
        a = math.radians(45 + 90 * k)
        ux, uy = math.cos(a), math.sin(a)
        px, py = -uy * width / 2, ux * width / 2
        corners = [
            (cx + ux * inner + px, cy + uy * inner + py),
            (cx + ux * outer + px, cy + uy * outer + py),
            (cx + ux * outer - px, cy + uy * outer - py),
            (cx + ux * inner - px, cy + uy * inner - py),
        ]
        parts.append(poly(" ".join(f"{n(x)},{n(y)}" for x, y in corners)))
    return parts


def _windows(x0: float, y0: float, cols: int, rows: int, size: float, gap: float) -> str:
    return "".join(
        f"M{n(x0 + c * (size + gap))} {n(y0 + r * (size + gap))}h{n(size)}v{n(size)}h{n(-size)}Z"
        for r in range(rows)
        for c in range(cols)
    )


SUBJECTS = (
    subject(
        "house",
        (100, 100),
        [
            rect(66, 14, 10, 24, "alt_dark"),
            rect(14, 46, 72, 54),
            poly("4,52 50,8 96,52", "alt"),
            circle(50, 34, 6, GLASS, 1),
            path("M42 100V76Q42 67 50 67Q58 67 58 76V100Z", "accent"),
            circle(54.5, 86, 1.6, "#fcd34d", 2),
            rect(22, 60, 14, 14, GLASS, r=2, level=1),
            rect(64, 60, 14, 14, GLASS, r=2, level=1),
            line("M29 60v14M22 67h14M71 60v14M64 67h14", "white", 1.8, 2),
        ],
        main="#f4d9a6",
        alt="#d2483c",
        accent="#8a4b2a",
        words=(
            "houses",
            "home",
            "homes",
            "cottage",
            "cottages",
            "cabin",
            "hut",
            "hut",
            "bungalow",
            "farmhouse",
        ),
        height=1.7,
        holds="inside",
        inner=(22, 56, 56, 40),
    ),
    subject(
        "castle",
        (140, 120),
        [
            poly("2,30 21,0 40,30", "alt"),
            poly("100,30 119,0 138,30", "alt"),
            path(_merlons(30, 44, 80, 5, 10)),
            rect(30, 52, 80, 68),
            rect(6, 30, 30, 90),
            rect(104, 30, 30, 90),
            path("M56 120V94Q56 82 70 82Q84 82 84 94V120Z", "accent"),
            line("M62 92v28M70 86v34M78 92v28", "accent_dark", 1.5, 2),
            rect(18, 48, 6, 12, "ink", r=3, level=1),
            rect(116, 48, 6, 12, "ink", r=3, level=1),
            rect(44, 64, 6, 12, "ink", r=3, level=1),
            rect(90, 64, 6, 12, "ink", r=3, level=1),
            rect(18, 80, 6, 12, "ink", r=3, level=2),
            rect(116, 80, 6, 12, "ink", r=3, level=2),
        ],
        main="#b9b3a8",
        alt="#4a6fd1",
        accent="#5b3a29",
        words=("castles", "palace", "palaces", "fortress", "fort", "kingdom", "citadel"),
        height=2.1,
    ),
    subject(
        "lighthouse",
        (64, 140),
        [
            poly("42,22 64,14 64,34", "accent", 2),
            poly("22,22 0,14 0,34", "accent", 2),
            rect(8, 126, 48, 14, "#8f98a8"),
            poly("17,130 23,40 41,40 47,130"),
            poly("18,115 19,100 45,100 46,115", "alt"),
            poly("20,85 21,70 43,70 44,85", "alt"),
            poly("22,55 23,42 41,42 42,55", "alt"),
            rect(16, 34, 32, 7, "#34465e"),
            rect(22, 18, 20, 16, "accent"),
            line("M28 18v16M36 18v16", "#34465e", 1.6, 2),
            poly("18,19 32,4 46,19", "alt"),
            rect(28, 116, 8, 14, "#34465e", r=4, level=1),
        ],
        main="#f8f8f6",
        alt="#e04848",
        accent="#fcd34d",
        words=("lighthouses", "beacon"),
        height=2.2,
        scenes=("sea",),
    ),
    subject(
        "tent",
        (120, 86),
        [
            line("M60 6L52 0M60 6L68 0", "ink", 2, 1),
            poly("60,6 118,86 2,86"),
            poly("60,6 118,86 60,86", "main_dark", 2),
            poly("60,26 78,86 42,86", "accent"),
            line("M60 26L48 58", "main_light", 2, 2),
        ],
        main="#f2862c",
        accent="#5a3a22",
        words=("tents", "camp", "camping", "campsite", "teepee", "tipi"),
        height=1.0,
        holds="inside",
        inner=(44, 50, 32, 36),
    ),
    subject(
        "windmill",
        (100, 140),
        [
            poly("30,140 38,44 62,44 70,140", "alt"),
            path("M44 140V120Q44 112 50 112Q56 112 56 120V140Z", "alt_dark"),
            rect(45, 70, 10, 12, GLASS, r=2, level=1),
            path("M34 46Q50 22 66 46Z", "alt_dark"),
            *_blades(50, 38, 6, 48, 13),
            line("M50 38L82 70M50 38L18 70M50 38L18 6M50 38L82 6", "main_dark", 1.5, 2),
            circle(50, 38, 5, "ink", 1),
        ],
        main="#f4ede0",
        alt="#c0583f",
        words=("windmills", "wind turbine", "mill"),
        height=2.0,
    ),
    subject(
        "skyscraper",
        (60, 150),
        [
            line("M30 0V14", "main_dark", 2.5, 1),
            rect(14, 12, 32, 14, "main_dark"),
            rect(4, 24, 52, 126),
            path(_windows(12, 34, 3, 10, 8, 3.6), GLASS, 1),
        ],
        main="#5f7a99",
        words=(
            "skyscrapers",
            "building",
            "buildings",
            "tower",
            "towers",
            "tower block",
            "office",
            "apartment",
            "apartments",
            "hotel",
        ),
        height=2.4,
        scenes=("city",),
    ),
    subject(
        "pyramid",
        (140, 90),
        [
            poly("70,0 140,90 0,90"),
            poly("70,0 140,90 70,90", "main_dark", 1),
            line("M52 24h36M36 46h68M20 68h100", "main_dark", 2, 2),
        ],
        main="#e3b25a",
        words=("pyramids", "egypt", "sphinx"),
        height=1.5,
        scenes=("desert",),
    ),
    subject(
        "igloo",
        (120, 70),
        [
            path("M4 70Q4 4 60 4Q116 4 116 70Z"),
            line(
                "M10 50H110M18 30H102M40 12v18M80 12v18M30 30v20M60 30v20M90 30v20M45 50v20",
                "main_dark",
                1.6,
                2,
            ),
            path("M74 70V48Q74 34 90 34Q106 34 106 48V70Z", "main_dark"),
            path("M82 70V52Q82 44 90 44Q98 44 98 52V70Z", "ink", 1),
        ],
        main="#eaf3fb",
        words=("igloos",),
        height=0.9,
        scenes=("snow",),
    ),
    subject(
        "barn",
        (120, 100),
        [
            poly("4,40 24,12 60,2 96,12 116,40", "alt"),
            rect(10, 38, 100, 62),
            rect(40, 58, 40, 42, "white"),
            rect(44, 62, 32, 38, "main_dark"),
            line("M44 62L76 100M76 62L44 100", "white", 3, 1),
            rect(52, 20, 16, 14, "white", level=1),
        ],
        main="#c0392b",
        alt="#6e2a22",
        words=("barns", "farm", "stable", "shed", "garage"),
        height=1.7,
    ),
)
