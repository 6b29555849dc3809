"""People: one friendly figure, in trousers or a dress; a colour word colours the clothes."""

from __future__ import annotations

from ..drawing import Part, circle, ellipse, line, path, rect, subject, tube

SKIN = "#f2c4a0"
HAIR = "#5b3a29"
TROUSERS = "#3b4a6b"


def _figure(dress: bool) -> tuple[Part, ...]:
    hair_back = (
        [path("M15 30Q12 60 20 66H50Q58 60 55 30Q54 10 35 10Q16 10 15 30Z", HAIR)] if dress else []
    )
    legs = [
        rect(25, 88, 8, 28, SKIN if dress else TROUSERS),
        rect(37, 88, 8, 28, SKIN if dress else TROUSERS),
        ellipse(28, 117, 7, 3.5, "ink"),
        ellipse(42, 117, 7, 3.5, "ink"),
    ]
    body = (
        path("M22 56Q22 46 35 46Q48 46 48 56L58 94H12Z")
        if dress
        else path("M20 58Q20 46 35 46Q50 46 50 58L52 92H18Z")
    )
    return (
        *hair_back,
        *legs,
        path(tube([(22, 54), (12, 80)], 8, 7), "main"),
        path(tube([(48, 54), (58, 80)], 8, 7), "main"),
        circle(12, 82, 4.5, SKIN),
        circle(58, 82, 4.5, SKIN),
        body,
        rect(31, 40, 8, 8, SKIN),
        circle(35, 28, 17, SKIN),
        path("M18 28Q16 8 35 8Q54 8 52 28Q46 18 35 19Q24 18 18 28Z", HAIR),
        circle(29, 30, 2.4, "ink", 1),
        circle(41, 30, 2.4, "ink", 1),
        line("M30 36Q35 40 40 36", "ink", 1.6, 2),
        ellipse(25, 35, 3, 2, "#f59ab0", 2),
        ellipse(45, 35, 3, 2, "#f59ab0", 2),
    )


SUBJECTS = (
    subject(
        "person",
        (70, 120),
        list(_figure(dress=False)),
        main="#3b82f6",
        words=(
            "+people",
            "persons",
            "boy",
            "boys",
            "man",
            "+men",
            "child",
            "+children",
            "kid",
            "kids",
            "friend",
            "friends",
            "student",
            "students",
            "human",
            "humans",
            "guy",
            "dad",
            "father",
            "grandpa",
            "farmer",
            "hiker",
            "explorer",
            "girl:dress",
            "girls:dress",
            "woman:dress",
            "+women:dress",
            "lady:dress",
            "ladies:dress",
            "mom:dress",
            "mother:dress",
            "grandma:dress",
            "daughter:dress",
            "son",
            "toddler",
            "astronaut",
            "spaceman",
            "chef",
            "doctor",
            "teacher",
            "knight",
        ),
        height=1.3,
        variants={"dress": _figure(dress=True)},
    ),
)
