"""Animals that stand side-on: farm and savanna animals (the layout may mirror them)."""

from __future__ import annotations

from ..drawing import Part, circle, ellipse, line, path, poly, rect, scallop, subject

# The sitting body every front-facing animal shares (in a 100x100 box, head above y≈66).
BODY = "M30 98Q18 98 22 80Q26 60 50 58Q74 60 78 80Q82 98 70 98Z"
BELLY = ellipse(50, 84, 14, 12, "alt", 1)
PAWS = [ellipse(38, 96, 8, 4.5, "main_light", 2), ellipse(62, 96, 8, 4.5, "main_light", 2)]
WHISKERS = line("M34 48L14 44M34 52L14 55M66 48L86 44M66 52L86 55", "ink", 1.3, 2)


def _sitting(*head: Part, tail: Part | None = None, belly: bool = True) -> list[Part]:
    parts = [tail] if tail else []
    parts += [path(BODY)]
    if belly:
        parts.append(BELLY)
    parts += PAWS
    parts += head
    return parts


def _horse(mane: str, horn: bool) -> list[Part]:
    parts = [
        path("M24 40Q4 44 8 82Q16 62 26 52Z", mane),
        rect(34, 60, 9, 36, "main_dark", r=3),
        rect(90, 60, 9, 36, "main_dark", r=3),
        ellipse(66, 54, 42, 19),
        rect(24, 62, 9, 36, "main", r=3),
        rect(80, 62, 9, 36, "main", r=3),
        rect(24, 92, 9, 6, "ink", level=1),
        rect(80, 92, 9, 6, "ink", level=1),
        path("M84 48Q92 22 104 10L118 22Q108 42 106 62Z"),
        ellipse(116, 24, 8, 16, "main", rotate=-40),
        poly("104,12 106,0 112,10"),
        path("M94 34Q96 16 106 6L112 12Q102 22 100 44Z", mane),
        circle(113, 19, 2.6, "ink", 1),
        circle(124, 33, 1.5, "ink", 2),
    ]
    if horn:
        parts.append(poly("107,6 122,-10 114,10", "accent"))
    return parts


SUBJECTS = (
    subject(
        "horse",
        (130, 100),
        _horse("alt", horn=False),
        main="#a3693a",
        alt="#4a2e1a",
        words=("horses", "pony", "ponies", "foal", "stallion", "mare"),
        height=1.35,
        facing="right",
        seat=0.42,
    ),
    subject(
        "unicorn",
        (130, 100),
        _horse("alt", horn=True),
        main="#faf7fc",
        alt="#f49ac9",
        accent="#f6c342",
        words=("unicorns", "pegasus"),
        height=1.35,
        facing="right",
        seat=0.42,
    ),
    subject(
        "cow",
        (130, 90),
        [
            line("M22 44Q8 52 10 74", "main_dark", 3, 1),
            circle(10, 76, 4, "alt", 1),
            rect(30, 56, 10, 32, "main_dark", r=3),
            rect(86, 56, 10, 32, "main_dark", r=3),
            rect(18, 28, 92, 40, "main", r=18),
            path("M40 30Q52 28 56 40Q54 52 42 50Q34 44 40 30Z", "alt", 1),
            path("M74 46Q88 44 90 56Q82 66 72 60Q68 52 74 46Z", "alt", 1),
            path("M22 48Q26 36 32 40Q34 50 24 58Z", "alt", 1),
            rect(22, 58, 10, 32, "main", r=3),
            rect(78, 58, 10, 32, "main", r=3),
            rect(22, 84, 10, 6, "alt", level=1),
            rect(78, 84, 10, 6, "alt", level=1),
            ellipse(60, 68, 8, 5, "accent", 2),
            path("M106 16Q102 6 108 2Q106 10 112 16Z", "#d9cbb0"),
            path("M122 16Q126 6 120 2Q122 10 116 16Z", "#d9cbb0"),
            ellipse(114, 34, 15, 20),
            ellipse(98, 24, 8, 4, "main_dark", rotate=20),
            ellipse(115, 48, 13, 9, "accent"),
            circle(110, 48, 2, "ink", 1),
            circle(120, 48, 2, "ink", 1),
            circle(108, 30, 2.6, "ink", 1),
            circle(121, 30, 2.6, "ink", 1),
        ],
        main="#f7f4ee",
        alt="#2e2a2a",
        accent="#f3a7b5",
        words=("cows", "cattle", "calf", "calves", "bull", "bulls", "ox", "oxen", "dairy cow"),
        height=1.2,
        facing="right",
        seat=0.3,
    ),
    subject(
        "sheep",
        (120, 90),
        [
            rect(34, 56, 8, 32, "alt_dark", r=3),
            rect(80, 56, 8, 32, "alt_dark", r=3),
            path(scallop(58, 44, 44, 28, 14, 0.62)),
            rect(26, 58, 8, 32, "alt", r=3),
            rect(72, 58, 8, 32, "alt", r=3),
            ellipse(104, 40, 12, 16, "alt", rotate=-20),
            ellipse(92, 30, 8, 4, "alt", rotate=30),
            path(scallop(98, 24, 10, 7, 7, 0.62), "main", 1),
            circle(108, 36, 2.6, "white", 1),
        ],
        main="#f6f3ec",
        alt="#3d3838",
        words=("+sheep", "lamb", "lambs", "ram", "rams", "ewe", "goat", "goats"),
        height=1.0,
        facing="right",
        seat=0.15,
    ),
    subject(
        "elephant",
        (140, 110),
        [
            line("M20 50Q10 60 12 74", "main_dark", 3, 1),
            rect(28, 66, 16, 42, "main_dark", r=6),
            rect(76, 66, 16, 42, "main_dark", r=6),
            ellipse(62, 56, 46, 34),
            rect(40, 68, 16, 42, "main", r=6),
            rect(88, 68, 16, 42, "main", r=6),
            path("M110 52Q128 70 124 96Q122 104 114 102Q118 80 102 62Z"),
            circle(106, 40, 26),
            ellipse(90, 44, 17, 23, "main_dark"),
            path("M110 60Q120 62 126 56Q122 66 112 66Z", "white", 1),
            circle(114, 34, 3.2, "ink", 1),
        ],
        main="#9ca4b3",
        words=("elephants", "mammoth", "mammoths"),
        height=1.6,
        facing="right",
        seat=0.08,
    ),
    subject(
        "giraffe",
        (100, 150),
        [
            line("M14 82Q6 92 8 106", "main_dark", 3, 1),
            rect(20, 92, 7, 56, "main_dark", r=3),
            rect(52, 92, 7, 56, "main_dark", r=3),
            ellipse(40, 88, 30, 17),
            path("M54 80L68 20L82 24L70 90Z"),
            line("M66 26l-12 54", "alt", 3, 2),
            rect(28, 94, 7, 56, "main", r=3),
            rect(60, 94, 7, 56, "main", r=3),
            line("M74 12l-2 -9M82 14l2 -9", "alt", 3, 0),
            circle(72, 3, 3, "alt", 0),
            circle(84, 5, 3, "alt", 0),
            ellipse(84, 18, 16, 9, "main", rotate=22),
            ellipse(64, 12, 6, 3, "main_dark", rotate=-20),
            circle(80, 15, 2.4, "ink", 1),
            ellipse(28, 82, 6, 5, "alt", 1),
            ellipse(46, 94, 7, 5, "alt", 1),
            ellipse(54, 80, 5, 4, "alt", 1),
            ellipse(22, 94, 4, 4, "alt", 1),
            ellipse(68, 58, 4, 5, "alt", 1),
            ellipse(72, 38, 3.5, 4.5, "alt", 1),
            ellipse(64, 76, 4, 4, "alt", 1),
        ],
        main="#f2c14e",
        alt="#a0612a",
        words=("giraffes",),
        height=2.0,
        facing="right",
    ),
    subject(
        "deer",
        (120, 120),
        [
            line("M96 24Q92 8 100 0M96 24Q104 14 110 12M94 18Q86 10 88 2", "alt", 3.5, 0),
            line("M108 24Q114 10 122 6", "alt", 3.5, 0),
            rect(34, 80, 7, 38, "main_dark", r=3),
            rect(82, 80, 7, 38, "main_dark", r=3),
            ellipse(62, 74, 38, 17),
            ellipse(30, 66, 6, 5, "white", 1),
            rect(26, 82, 7, 38, "main", r=3),
            rect(74, 82, 7, 38, "main", r=3),
            path("M82 70Q90 42 98 30L110 36Q102 56 100 80Z"),
            ellipse(108, 38, 7, 14, "main", rotate=-50),
            ellipse(94, 30, 7, 3.5, "main_dark", rotate=-30),
            circle(118, 46, 2.4, "ink", 1),
            circle(104, 34, 2.4, "ink", 1),
            circle(50, 70, 2.2, "white", 2),
            circle(62, 66, 2.2, "white", 2),
            circle(74, 70, 2.2, "white", 2),
        ],
        main="#b9783e",
        alt="#6b4423",
        words=(
            "+deer",
            "deers",
            "reindeer",
            "stag",
            "stags",
            "fawn",
            "doe",
            "moose",
            "elk",
            "antelope",
        ),
        height=1.4,
        facing="right",
    ),
)
