"""The offline model's library: every subject it can draw, by name."""

from __future__ import annotations

from ..drawing import Subject
from . import (
    buildings,
    critters,
    food,
    home,
    landscape,
    people,
    sea,
    sitting_animals,
    sky,
    standing_animals,
    symbols,
    toys,
    vehicles,
)

ALL: tuple[Subject, ...] = (
    *sky.SUBJECTS,
    *landscape.SUBJECTS,
    *sitting_animals.SUBJECTS,
    *standing_animals.SUBJECTS,
    *critters.SUBJECTS,
    *sea.SUBJECTS,
    *buildings.SUBJECTS,
    *vehicles.SUBJECTS,
    *home.SUBJECTS,
    *symbols.SUBJECTS,
    *toys.SUBJECTS,
    *food.SUBJECTS,
    *people.SUBJECTS,
)
SUBJECTS: dict[str, Subject] = {s.name: s for s in ALL}
