"""The layout honours what the prompt says about where things are, and keeps them in the frame."""

from __future__ import annotations

import itertools

import pytest

from chatsvg.adapters.offline import plan, render
from chatsvg.adapters.offline.geometry import FRAME, GROUND_Y, Box, Placement
from chatsvg.adapters.offline.subjects import SUBJECTS
from tests.offline.svg import subjects as drawn_subjects


def placed(prompt: str) -> dict[str, Placement]:
    """Placements by subject name (first copy), from the plan."""
    out: dict[str, Placement] = {}
    for p in plan(prompt)[1].placements:
        if p.item.layer != "front":
            out.setdefault(p.item.subject.name, p)
    return out


def order(prompt: str) -> list[str]:
    return [p.item.key for p in plan(prompt)[1].placements]


def drawn_box(prompt: str, name: str) -> Box:
    """Where the SVG itself puts a subject: its group's translate and scale."""
    for d in drawn_subjects(render(prompt, "flat")):
        if d.name == name:
            w, h = SUBJECTS[name].size
            x = d.x - w * d.scale if d.flipped else d.x
            return Box(x, d.y, w * d.scale, h * d.scale)
    raise AssertionError(f"{name} is not drawn")


def overlap_x(a: Box, b: Box) -> float:
    return min(a.right, b.right) - max(a.x, b.x)


@pytest.mark.parametrize(
    "prompt",
    ["a fox under a moon", "a friendly red fox sitting under a crescent moon", "a moon above a fox"],
)
def test_under_the_moon_the_fox_is_below_it(prompt: str) -> None:
    fox, moon = drawn_box(prompt, "fox"), drawn_box(prompt, "moon")
    assert fox.y >= moon.bottom
    assert overlap_x(fox, moon) > 0  # and under it, not off to one side


def test_above_puts_the_bird_over_the_house() -> None:
    p = placed("a bird above a house")
    bird, house = p["bird"].box, p["house"].box
    assert bird.bottom <= house.y and overlap_x(bird, house) > 0


def test_on_stands_the_cat_on_the_table_top() -> None:
    p = placed("a cat on a table")
    cat, table = p["cat"].box, p["table"].box
    top = table.y + SUBJECTS["table"].seat * table.h
    assert abs(cat.bottom - top) < 0.1 * table.h
    assert table.x <= cat.cx <= table.right
    assert order("a cat on a table").index("cat-1-1") > order("a cat on a table").index("table-2-1")


def test_in_puts_the_bird_inside_the_crown_of_the_tree() -> None:
    p = placed("a bird in a tree")
    bird, tree = p["bird"].box, p["tree"].box
    assert tree.x <= bird.x and bird.right <= tree.right
    assert tree.y <= bird.y and bird.bottom <= tree.y + tree.h * 0.6


def test_in_a_box_the_cat_peeks_out_between_the_back_and_the_front() -> None:
    keys = order("a cat in a box")
    assert keys.index("box-2-1") < keys.index("cat-1-1") < keys.index("box-2-1-front")
    p = placed("a cat in a box")
    cat, box = p["cat"].box, p["box"].box
    assert box.x <= cat.cx <= box.right
    assert cat.y < box.y + 0.3 * box.h < cat.bottom  # its head shows above the rim


def test_next_to_is_side_by_side_on_the_same_ground() -> None:
    p = placed("a dog next to a car")
    dog, car = p["dog"].box, p["car"].box
    assert overlap_x(dog, car) <= 0
    assert abs(dog.bottom - car.bottom) < 12


def test_left_of_and_right_of() -> None:
    left = placed("a tree to the left of a house")
    assert left["tree"].box.right <= left["house"].box.x
    right = placed("a tree to the right of a house")
    assert right["tree"].box.x >= right["house"].box.right


def test_behind_is_drawn_first_and_overlaps() -> None:
    keys = order("a sun behind a mountain")
    assert keys.index("sun-1-1") < keys.index("mountain-2-1")
    p = placed("a sun behind a mountain")
    assert overlap_x(p["sun"].box, p["mountain"].box) > 0
    assert p["sun"].box.y < p["mountain"].box.y  # it rises over the ridge


def test_in_front_of_is_drawn_after_and_lower() -> None:
    keys = order("a dog in front of a house")
    assert keys.index("dog-1-1") > keys.index("house-2-1")
    p = placed("a dog in front of a house")
    assert p["dog"].box.bottom >= p["house"].box.bottom


def test_under_a_tree_is_at_its_foot_not_below_the_ground() -> None:
    p = placed("a cat under a tree")
    cat, tree = p["cat"].box, p["tree"].box
    assert abs(cat.bottom - tree.bottom) < 4
    assert tree.x <= cat.cx <= tree.right and cat.y > tree.y


def test_counts_give_copies_and_sizes_stay_relative() -> None:
    stars = [p for p in plan("three stars")[1].placements if p.item.subject.name == "star"]
    assert len(stars) == 3
    assert len({(round(s.box.x), round(s.box.y)) for s in stars}) == 3
    p = placed("a cat next to a tree")
    assert p["tree"].box.h > 1.4 * p["cat"].box.h


def test_grounded_things_stand_on_the_ground_and_the_sky_is_up() -> None:
    p = placed("a house and a sun")
    assert abs(p["house"].box.bottom - GROUND_Y) < 14 and p["house"].grounded
    assert p["sun"].box.cy < FRAME / 2 and not p["sun"].grounded


def test_boats_are_on_the_sea() -> None:
    layout = plan("a house and a boat")[1]
    boat = next(p for p in layout.placements if p.item.subject.name == "boat")
    assert layout.sea_from is not None and layout.sea_from <= boat.box.cx


WORDS = ["cat", "tree", "house", "moon", "three birds", "a car", "a boat", "a fish", "a rocket"]
LINKS = ["under", "on", "in", "next to", "behind", "above", "and"]


@pytest.mark.parametrize(
    "prompt",
    [f"a {a} {link} a {b}" for a, b in itertools.permutations(WORDS[:6], 2) for link in LINKS[:4]],
)
def test_everything_stays_in_the_frame(prompt: str) -> None:
    for p in plan(prompt)[1].placements:
        box = p.box
        slack = 0.12 * max(box.w, box.h)  # a unicorn's horn or a steam puff may poke out a little
        assert -slack <= box.x and box.right <= FRAME + slack, (p.item.key, box)
        assert -slack <= box.y and box.bottom <= FRAME + slack, (p.item.key, box)
        assert box.w > 8 and box.h > 8, (p.item.key, box)
