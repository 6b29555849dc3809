"""What is up in the sky: sun, moon, stars, clouds, weather and planets."""

from __future__ import annotations

from ..drawing import (
    arch,
    circle,
    crescent,
    ellipse,
    faded,
    line,
    n,
    path,
    poly,
    rays,
    star_points,
    subject,
)


def _cloud(dx: float = 0, dy: float = 0, k: float = 1) -> str:
    """The cloud's outline, moved and scaled (a smaller, higher copy leaves a shaded underside)."""
    points = ((14, 46, 15), (40, 30, 19), (80, 34, 23), (90, 64, 17), (80, 74, 12))
    d = f"M{n(22 * k + dx)} {n(74 * k + dy)}"
    for x, y, r in points:
        d += f"A{n(r * k)} {n(r * k)} 0 0 1 {n(x * k + dx)} {n(y * k + dy)}"
    return d + "Z"


def _small_cloud(x: float, y: float, s: float) -> str:
    return (
        f"M{x} {y}a{7 * s} {7 * s} 0 0 1 {2 * s} {-13 * s}a{9 * s} {9 * s} 0 0 1 {16 * s} {-5 * s}"
        f"a{8 * s} {8 * s} 0 0 1 {12 * s} {8 * s}a{6 * s} {6 * s} 0 0 1 {-2 * s} {10 * s}Z"
    )


SUBJECTS = (
    subject(
        "sun",
        (100, 100),
        [
            path(rays(50, 50, 33, 49, 12, 0.2)),
            circle(50, 50, 29),
            circle(50, 50, 22, "main_light", 2),
        ],
        main="#fbbf24",
        words=("suns", "sunshine", "sunlight"),
        habitat="sky",
        height=1.05,
        scenes=("day",),
    ),
    subject(
        "moon",
        (90, 100),
        [
            path(crescent(45, 50, 45, 24, -14, 40)),
            circle(24, 66, 5, "main_dark", 2),
            circle(14, 44, 3.5, "main_dark", 2),
            circle(30, 84, 3, "main_dark", 2),
        ],
        main="#fde68a",
        words=("crescent moon", "crescent", "half moon", "moons", "full moon:full"),
        habitat="sky",
        height=0.95,
        scenes=("night",),
        variants={
            "full": (
                circle(45, 50, 45),
                circle(30, 38, 8, "main_dark", 2),
                circle(58, 64, 11, "main_dark", 2),
                circle(62, 30, 5, "main_dark", 2),
                circle(34, 74, 4, "main_dark", 2),
            )
        },
    ),
    subject(
        "star",
        (100, 96),
        [
            poly(star_points(50, 52, 50, 21)),
            poly(star_points(50, 52, 20, 8.5), "main_light", 2),
        ],
        main="#facc15",
        words=("stars", "starlight", "shooting star", "twinkle"),
        habitat="sky",
        height=0.45,
        scenes=("night",),
    ),
    subject(
        "cloud",
        (100, 80),
        [
            path(_cloud(), "alt"),
            path(_cloud(2.5, -3, 0.95), "main", 1),
        ],
        main="#f8fafc",
        alt="#d6e2ef",
        words=("clouds", "cloudy", "raincloud", "storm cloud"),
        habitat="sky",
        height=0.62,
    ),
    subject(
        "rainbow",
        (124, 70),
        [
            path(arch(62, 64, 58, 50), "#ef4444"),
            path(arch(62, 64, 50, 42), "#f97316"),
            path(arch(62, 64, 42, 34), "#facc15"),
            path(arch(62, 64, 34, 26), "#22c55e"),
            path(arch(62, 64, 26, 18), "#3b82f6"),
            path(arch(62, 64, 18, 11), "#8b5cf6"),
            path(_small_cloud(2, 70, 1.3), "white", 1),
            path(_small_cloud(88, 70, 1.3), "white", 1),
        ],
        main="#ef4444",
        words=("rainbows",),
        habitat="sky",
        height=0.85,
        scenes=("day",),
    ),
    subject(
        "lightning",
        (70, 100),
        [poly("44,0 6,56 32,56 20,100 66,36 40,36 54,0")],
        main="#facc15",
        words=("lightning bolt", "bolt", "thunderbolt", "flash"),
        habitat="sky",
        height=0.9,
        scenes=("storm",),
    ),
    subject(
        "snowflake",
        (100, 100),
        [
            line(
                "M50 4V96M10 27L90 73M10 73L90 27"
                "M50 20L40 10M50 20L60 10M50 80L40 90M50 80L60 90"
                "M24 35L11 37M24 35L19 22M76 65L89 63M76 65L81 78"
                "M24 65L11 63M24 65L19 78M76 35L89 37M76 35L81 22",
                "main",
                7,
                0,
            ),
            circle(50, 50, 9, "main", 1),
        ],
        main="#60a5fa",
        words=("snowflakes", "snow flake", "ice crystal"),
        habitat="sky",
        height=0.5,
        scenes=("snow",),
    ),
    subject(
        "planet",
        (120, 84),
        [
            line("M8 56A56 16 -16 0 1 112 28", "alt", 7, 0),
            circle(60, 42, 31),
            path(crescent(60, 42, 31, -11, -9, 31), "main_dark", 2),
            line("M112 28A56 16 -16 0 1 8 56", "alt", 7, 0),
        ],
        main="#f59e0b",
        alt="#fde68a",
        words=("planets", "saturn", "jupiter", "mars", "world"),
        habitat="sky",
        height=0.8,
        scenes=("space",),
    ),
    subject(
        "raindrop",
        (70, 100),
        [
            path("M35 2C35 2 66 42 66 64A31 31 0 0 1 4 64C4 42 35 2 35 2Z"),
            faded(ellipse(22, 62, 6, 12, "white", 2, rotate=20), 0.7),
        ],
        main="#4f9cf5",
        words=("raindrops", "drop", "droplet", "water drop", "tear", "teardrop"),
        habitat="float",
        height=0.5,
    ),
    subject(
        "comet",
        (120, 80),
        [
            path("M96 18L10 62Q30 40 96 6Z", "main_light", 1),
            path("M100 30L20 78Q40 50 96 18Z", "main_light", 1),
            poly(star_points(96, 24, 22, 10)),
        ],
        main="#fbbf24",
        words=("comets", "meteor", "meteors", "asteroid"),
        habitat="sky",
        height=0.7,
        scenes=("space",),
    ),
)
