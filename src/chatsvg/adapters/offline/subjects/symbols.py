"""Symbols: hearts, crowns, keys, bulbs, clocks, anchors, bells, trophies, diamonds, flags."""

from __future__ import annotations

from ..drawing import (
    circle,
    ellipse,
    faded,
    line,
    path,
    poly,
    rect,
    ring,
    star_points,
    subject,
)

GLASS = "#bfe3ff"


HEART = (
    "M50 88C20 66 2 48 2 28C2 12 14 2 28 2C38 2 46 8 50 16C54 8 62 2 72 2C86 2 98 12 98 28"
    "C98 48 80 66 50 88Z"
)

SUBJECTS = (
    subject(
        "heart",
        (100, 90),
        [path(HEART), faded(ellipse(26, 24, 10, 6, "white", 2, rotate=-35), 0.6)],
        main="#e8384f",
        words=("hearts", "love", "valentine", "valentines"),
        habitat="float",
        height=0.8,
    ),
    subject(
        "crown",
        (100, 72),
        [
            path("M6 64L2 16L28 38L50 6L72 38L98 16L94 64Z"),
            rect(6, 52, 88, 14, "main_dark", r=2),
            circle(2, 16, 4.5),
            circle(50, 6, 4.5),
            circle(98, 16, 4.5),
            circle(28, 59, 4, "#ef4444", 1),
            circle(50, 59, 4, "#3b82f6", 1),
            circle(72, 59, 4, "#22c55e", 1),
        ],
        main="#f5c02c",
        words=("crowns", "tiara", "king", "queen", "princess", "prince", "royal"),
        habitat="float",
        height=0.55,
    ),
    subject(
        "key",
        (110, 50),
        [
            ring(22, 25, 20, 9),
            rect(40, 20, 66, 10, "main", r=3),
            path("M84 28h8v16h-8zM96 28h8v11h-8z"),
        ],
        main="#f2b233",
        words=("keys", "door key", "lock"),
        habitat="float",
        height=0.4,
    ),
    subject(
        "lightbulb",
        (70, 100),
        [
            path("M35 2Q66 2 66 34Q66 50 52 62V70H18V62Q4 50 4 34Q4 2 35 2Z"),
            line("M26 62L28 40L35 48L42 40L44 62", "main_dark", 2, 1),
            faded(ellipse(20, 26, 5, 10, "white", 2, rotate=30), 0.7),
            rect(18, 70, 34, 20, "#9aa3b0", r=3),
            line("M18 77H52M18 84H52", "#6b7280", 1.6, 2),
            rect(26, 90, 18, 8, "#4b5563", r=3),
        ],
        main="#fde047",
        words=(
            "lightbulbs",
            "light bulb",
            "light bulbs",
            "bulb",
            "idea",
            "ideas",
            "lamp",
            "lamps",
            "lantern",
        ),
        habitat="float",
        height=0.8,
    ),
    subject(
        "clock",
        (100, 100),
        [
            circle(50, 50, 48),
            circle(50, 50, 40, "alt"),
            line("M50 14v7M50 79v7M14 50h7M79 50h7", "ink", 2.5, 2),
            line("M50 50V26M50 50L68 58", "ink", 3.5, 1),
            circle(50, 50, 4, "ink", 1),
        ],
        main="#e04848",
        alt="#fffdf7",
        words=("clocks", "watch", "watches", "alarm clock", "time", "timer", "stopwatch"),
        habitat="float",
        height=0.7,
    ),
    subject(
        "anchor",
        (92, 100),
        [
            ring(46, 10, 9, 4.5),
            rect(42, 18, 8, 70, "main", r=3),
            rect(24, 28, 44, 8, "main", r=4),
            path(
                "M8 58Q10 96 46 96Q82 96 84 58L92 64L82 44L68 58L76 60Q72 86 46 86Q20 86 16 60"
                "L24 58L10 44L0 64Z"
            ),
        ],
        main="#34465e",
        words=("anchors", "nautical"),
        habitat="float",
        height=0.75,
    ),
    subject(
        "bell",
        (90, 92),
        [
            ring(45, 7, 6, 3),
            circle(45, 80, 8, "main_dark"),
            path("M45 10Q72 10 74 42Q76 64 86 72H4Q14 64 16 42Q18 10 45 10Z"),
            rect(4, 70, 82, 6, "main_dark", r=3),
            faded(ellipse(30, 34, 4, 12, "white", 2, rotate=15), 0.6),
        ],
        main="#f5c02c",
        words=("bells", "jingle bell", "jingle bells", "doorbell"),
        habitat="float",
        height=0.65,
    ),
    subject(
        "trophy",
        (90, 100),
        [
            line("M22 20Q2 20 6 38Q10 50 26 50M68 20Q88 20 84 38Q80 50 64 50", "main", 6, 0),
            path("M18 8H72V30Q72 58 45 62Q18 58 18 30Z"),
            rect(39, 60, 12, 16, "main_dark"),
            rect(24, 76, 42, 10, "main", r=2),
            rect(18, 86, 54, 12, "main_dark", r=2),
            poly(star_points(45, 30, 11, 5), "main_light", 2),
        ],
        main="#f2b233",
        words=(
            "trophies",
            "award",
            "awards",
            "prize",
            "prizes",
            "medal",
            "winner",
            "champion",
            "victory",
        ),
        habitat="float",
        height=0.8,
    ),
    subject(
        "diamond",
        (100, 80),
        [
            poly("20,2 80,2 100,26 50,78 0,26"),
            poly("20,2 34,26 50,2", "main_light", 1),
            poly("50,2 66,26 80,2", "main_light", 1),
            poly("0,26 34,26 50,78", "main_dark", 1),
            poly("66,26 100,26 50,78", "main_dark", 2),
            line("M0 26H100M34 26L50 78M66 26L50 78", "main_light", 1.5, 2),
        ],
        main="#38bdf8",
        words=("diamonds", "gem", "gems", "gemstone", "jewel", "jewels", "crystal", "crystals"),
        habitat="float",
        height=0.6,
    ),
    subject(
        "flag",
        (80, 110),
        [
            rect(4, 2, 5, 108, "#8f98a8"),
            circle(6.5, 3, 4, "accent"),
            path("M9 8Q30 0 50 10Q64 16 78 10V52Q64 58 50 52Q30 42 9 50Z"),
            path("M9 29Q30 21 50 31Q64 37 78 31V52Q64 58 50 52Q30 42 9 50Z", "main_dark", 2),
        ],
        main="#e04848",
        accent="#f5c02c",
        words=("flags", "banner", "banners", "pennant"),
        height=1.0,
    ),
)
