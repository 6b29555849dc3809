"""Fruit, vegetables and treats."""

from __future__ import annotations

from ..drawing import circle, circle_d, ellipse, faded, line, path, poly, rect, ring, subject

LEAF = "#3f9d4a"
STEM = "#6b4423"

SUBJECTS = (
    subject(
        "apple",
        (80, 90),
        [
            line("M40 22Q40 10 46 4", STEM, 4, 0),
            path("M44 12Q56 2 70 8Q60 20 44 16Z", LEAF),
            path(
                "M40 24Q52 14 66 20Q82 28 78 52Q74 82 56 88Q48 90 40 86Q32 90 24 88Q6 82 2 52"
                "Q-2 28 14 20Q28 14 40 24Z"
            ),
            faded(ellipse(20, 40, 5, 11, "white", 2, rotate=20), 0.55),
        ],
        main="#e53935",
        words=("apples", "fruit", "fruits"),
        habitat="float",
        height=0.55,
    ),
    subject(
        "banana",
        (110, 70),
        [
            path("M6 14Q20 56 60 62Q92 64 106 40Q98 46 84 48Q44 52 20 10Z"),
            path("M20 10Q44 52 84 48Q98 46 106 40Q100 54 84 56Q44 58 20 18Z", "main_dark", 1),
            path("M2 10L8 4L22 8L20 14Z", STEM),
            path("M104 38L110 40L106 46Z", STEM, 1),
        ],
        main="#f9d535",
        words=("bananas",),
        habitat="float",
        height=0.45,
    ),
    subject(
        "cherry",
        (80, 90),
        [
            line("M24 62Q30 30 52 6M58 58Q58 30 52 6", "#4d7c2f", 3, 0),
            path("M52 6Q66 0 74 12Q62 16 52 6Z", LEAF, 1),
            circle(22, 68, 18),
            circle(58, 64, 18),
            faded(circle(16, 62, 4, "white", 2), 0.6),
            faded(circle(52, 58, 4, "white", 2), 0.6),
        ],
        main="#c81d3a",
        words=("cherries", "berry", "berries"),
        habitat="float",
        height=0.5,
    ),
    subject(
        "strawberry",
        (72, 92),
        [
            path("M36 22Q62 18 68 36Q70 62 36 90Q2 62 4 36Q10 18 36 22Z"),
            path("M36 26L24 10L32 20L36 4L40 20L48 10L36 26Z", LEAF),
            path("M12 24Q24 16 36 24Q48 16 60 24Q48 30 36 26Q24 30 12 24Z", LEAF),
            line(
                "M22 40l2 3M36 38l2 3M50 40l2 3M16 54l2 3M30 52l2 3M44 52l2 3M56 54l2 3"
                "M24 66l2 3M38 66l2 3M32 78l2 3",
                "#fde68a",
                2.5,
                1,
            ),
        ],
        main="#e8344a",
        words=("strawberries",),
        habitat="float",
        height=0.55,
    ),
    subject(
        "carrot",
        (60, 120),
        [
            path("M30 30L22 4L30 14L34 0L38 16L46 6L36 30Z", LEAF),
            path("M14 34Q30 22 46 34Q44 70 32 116Q28 120 26 116Q16 70 14 34Z"),
            line("M18 50h8M34 62h8M20 78h7M32 92h6", "main_dark", 2, 2),
        ],
        main="#f58a1f",
        words=("carrots", "vegetable", "vegetables", "veggie", "veggies"),
        habitat="float",
        height=0.8,
    ),
    subject(
        "pizza",
        (100, 96),
        [
            path("M4 8Q50 -6 96 8L50 94Z"),
            path("M4 8Q50 -6 96 8L92 18Q50 6 8 18Z", "alt"),
            circle(40, 30, 7, "accent", 1),
            circle(62, 32, 6, "accent", 1),
            circle(50, 52, 6, "accent", 1),
            circle(52, 72, 4.5, "accent", 1),
            circle(30, 22, 2, LEAF, 2),
            circle(70, 50, 2, LEAF, 2),
        ],
        main="#fcd34d",
        alt="#d9913f",
        accent="#d9342b",
        words=("pizzas", "pizza slice", "slice of pizza", "pepperoni"),
        habitat="float",
        height=0.65,
    ),
    subject(
        "ice-cream",
        (64, 120),
        [
            poly("10,52 54,52 32,118", "alt"),
            line(
                "M16 62L44 90M26 56L50 80M38 54L52 68M48 62L22 88M38 56L14 78M26 56L12 66",
                "alt_dark",
                1.6,
                2,
            ),
            circle(32, 40, 22),
            ellipse(32, 52, 25, 7, "main"),
            circle(32, 18, 16, "accent"),
            circle(34, 4, 5, "#e53935", 1),
        ],
        main="#f9a8d4",
        alt="#e0a458",
        accent="#fdf0d5",
        words=(
            "ice cream",
            "ice creams",
            "icecream",
            "ice cream cone",
            "gelato",
            "sundae",
            "popsicle",
        ),
        habitat="float",
        height=0.85,
    ),
    subject(
        "donut",
        (90, 90),
        [
            ring(45, 45, 42, 13, "alt"),
            path(
                "M8 40Q6 10 45 6Q84 6 84 40Q86 56 76 60Q70 66 64 58Q56 64 48 58Q40 66 32 58"
                "Q22 64 16 56Q8 52 8 40Z" + circle_d(45, 45, 13),
                "main",
                evenodd=True,
            ),
            line(
                "M28 22l5 -3M60 20l4 4M70 38l5 -2M20 40l4 3M44 18l5 1M54 50l3 4M32 50l-4 4",
                "#60a5fa",
                3,
                2,
            ),
        ],
        main="#f7a1c4",
        alt="#d59a57",
        words=("donuts", "doughnut", "doughnuts", "bagel"),
        habitat="float",
        height=0.6,
    ),
    subject(
        "burger",
        (100, 84),
        [
            path("M6 36Q6 2 50 2Q94 2 94 36Z", "alt"),
            path(
                "M2 40Q10 34 18 40Q26 34 34 40Q42 34 50 40Q58 34 66 40Q74 34 82 40Q90 34 98 40"
                "V44H2Z",
                LEAF,
            ),
            poly("6,44 94,44 80,56 70,48 20,48", "#facc15"),
            rect(4, 48, 92, 14, "main", r=7),
            path("M6 64H94Q94 82 74 82H26Q6 82 6 64Z", "alt"),
            line("M28 12l4 -2M46 8l4 1M64 12l4 2M38 20l4 -1M58 22l4 1", "#fff7e6", 2.5, 2),
        ],
        main="#7a4322",
        alt="#e9a84e",
        words=(
            "burgers",
            "hamburger",
            "hamburgers",
            "cheeseburger",
            "sandwich",
            "sandwiches",
            "fast food",
        ),
        habitat="float",
        height=0.6,
    ),
    subject(
        "watermelon",
        (110, 64),
        [
            path("M2 4H108A53 53 0 0 1 2 4Z", "alt"),
            path("M8 4H102A47 47 0 0 1 8 4Z", "#f4f7e8"),
            path("M12 4H98A43 43 0 0 1 12 4Z"),
            ellipse(34, 16, 2, 3.5, "ink", 1),
            ellipse(55, 26, 2, 3.5, "ink", 1),
            ellipse(76, 16, 2, 3.5, "ink", 1),
            ellipse(46, 12, 2, 3.5, "ink", 2),
            ellipse(64, 12, 2, 3.5, "ink", 2),
        ],
        main="#f0455a",
        alt="#3f9d4a",
        words=("watermelons", "melon", "melons"),
        habitat="float",
        height=0.5,
    ),
    subject(
        "pumpkin",
        (100, 84),
        [
            path("M48 16Q46 4 54 0Q56 8 54 16Z", STEM),
            ellipse(30, 50, 26, 32, "main_dark"),
            ellipse(70, 50, 26, 32, "main_dark"),
            ellipse(50, 50, 28, 34),
            line("M54 10Q64 2 74 10", LEAF, 2.5, 2),
            line("M30 20Q18 50 30 80M70 20Q82 50 70 80", "main_dark", 1.6, 2),
        ],
        main="#f58a1f",
        words=("pumpkins", "jack o lantern", "squash", "gourd"),
        height=0.6,
        scenes=("autumn",),
    ),
    subject(
        "lemon",
        (90, 64),
        [
            path("M4 32Q10 6 44 4Q78 6 86 32Q78 58 44 60Q10 58 4 32Z"),
            path("M86 32L90 28L90 36Z", "main_dark"),
            faded(ellipse(30, 20, 10, 4, "white", 2, rotate=-15), 0.6),
        ],
        main="#fde047",
        words=("lemons", "lime fruit", "citrus"),
        habitat="float",
        height=0.45,
    ),
)
